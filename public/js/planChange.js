// Changing an account's plan, loaded only when the customer asks: the plans
// on sale with what each change would cost now (`GET /api/plan-change`), the
// button that makes it (an invoice, paid on the products page, or a change
// scheduled for the next renewal), and the note on a scheduled change with
// its cancel.

import {api} from './api.js';
import {busy, date, fill, h, message, money} from './ui.js';

const DAY = 86400;

/** The offer inside `box` for `account`; `plans` are those on sale;
 * `reload` redraws the profile after a change. */
export async function offer(account, plans, box, reload) {
  const others = plans.filter((p) => p.id !== account.planId);
  if (!others.length) {
    fill(box, message('info', null, 'There is no other plan on sale right now.'));
    return;
  }
  fill(box, h('p', {class: 'small muted'}, 'Working out the prices…'));
  const rows = await Promise.all(others.map((plan) => row(account, plan, reload)));
  fill(box, h('div', {'data-test': 'plan-change'}, h('h4', {}, 'Change plan'), ...rows));
}

async function row(account, plan, reload) {
  const label = `${plan.name} · ${money(plan.price, plan.currency)} a ${plan.billingCycle === 'yearly' ? 'year' : 'month'}`;
  const error = h('div');
  let quote;
  try {
    quote = await api('GET', `/api/plan-change?accountId=${encodeURIComponent(account.id)}&planId=${encodeURIComponent(plan.id)}`);
  } catch (e) {
    return h('div', {class: 'plan-change', 'data-plan': plan.id}, h('strong', {}, label), h('p', {class: 'small'}, e.message));
  }
  const button = h('button', {type: 'button', class: 'secondary', 'data-test': 'plan-change-button'}, action(quote));
  button.addEventListener('click', async () => {
    fill(error);
    const done = busy(button, 'One moment…');
    try {
      const answer = await api('POST', '/api/plan-change', {accountId: account.id, planId: plan.id});
      if (answer.payment) location.assign(`/products.html?payment=${encodeURIComponent(answer.payment.id)}`);
      else await reload();
    } catch (e) {
      done();
      fill(error, message('error', 'The plan was not changed', e.message));
    }
  });
  return h('div', {class: 'plan-change', 'data-plan': plan.id},
    h('strong', {}, label), h('p', {class: 'small', 'data-test': 'plan-change-explained'}, explain(quote)), button, error);
}

function action(quote) {
  const due = money(quote.proration.due, quote.proration.currency);
  if (quote.kind === 'upgrade') return `Upgrade now for ${due}`;
  if (quote.kind === 'cycleChange') return `Switch now for ${due}`;
  return 'Switch at my next renewal';
}

/** The price in words, with the figures it comes from. */
function explain(quote) {
  const p = quote.proration;
  const days = (p.remainingSeconds / DAY).toFixed(1);
  const of = (p.periodSeconds / DAY).toFixed(1);
  const m = (amount) => money(amount, p.currency);
  if (quote.kind === 'upgrade') {
    return `${days} of ${of} days are left of this period: ${m(p.debit)} of the new plan, less ${m(p.credit)} unused of the old. ` +
      `Your renewal date stays ${date(quote.paidUntil)}.`;
  }
  if (quote.kind === 'cycleChange') {
    return `A new ${quote.toPlan.billingCycle === 'yearly' ? 'year' : 'period'} starts when you pay: ${m(p.debit)}, ` +
      `less ${m(p.credit)} for the ${days} unused days of this period.`;
  }
  return `Nothing to pay now and nothing is refunded: your next renewal (${date(quote.paidUntil)}) is for this plan.`;
}

/** The note on a change scheduled for `account`'s next renewal (to the plan
 * named `name`), with its cancel while that renewal is not paid yet. */
export function scheduled(account, name, box, reload) {
  const {from} = account.scheduledPlan;
  const error = h('div');
  const button = from ? null : h('button', {type: 'button', class: 'link', 'data-test': 'cancel-plan-change'}, 'Cancel this change');
  if (button) {
    button.addEventListener('click', async () => {
      const done = busy(button, 'Cancelling…');
      try {
        await api('POST', '/api/plan-change/cancel', {accountId: account.id});
        await reload();
      } catch (e) {
        done();
        fill(error, message('error', 'The change was not cancelled', e.message));
      }
    });
  }
  fill(box, h('div', {'data-test': 'scheduled-plan'},
    message('info', null, `Moves to ${name} ${from ? `on ${date(from)}` : 'at the next renewal'}.`, button), error));
}
