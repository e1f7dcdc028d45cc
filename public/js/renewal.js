// The renewal offer (`/products.html?renew=<account id>`), loaded only for
// renewals: the domain, the plan by name and price (on sale or not; one that
// cannot be read is said so, with no invoice), and the button that makes
// the invoice, which the products page then shows (`startPayment`).

import {api} from './api.js';
import {busy, byId, date, fill, h, message, money, show} from './ui.js';

/** Offers to renew the customer's account `accountId`; `page` is what the
 * products page lends it. */
export function offerRenewal(accountId, page) {
  const {profile, planOf, cycleWord, periodChoice, startPayment, purchaseError} = page;
  const account = (profile.cpanelAccounts || []).find((a) => a.id === accountId);
  if (!account) {
    fill('renew', message('error', 'No such account', 'That hosting account is not one of yours. Choose a plan below instead.'));
    return;
  }
  const plan = planOf(account.planId);
  byId('page-title').textContent = 'Renew your hosting';
  show('intro', false);
  show('plans-section', false);
  const back = h('a', {class: 'button secondary', href: '/profile.html'}, 'Back to my hosting');
  const card = (...children) => fill('renew', h('section', {class: 'card', 'aria-labelledby': 'renew-title'},
    h('h2', {id: 'renew-title'}, `Renew ${account.domain}`), ...children));
  if (!plan) {
    card(h('div', {'data-test': 'renew-unavailable'}, message('warn', 'This plan cannot be renewed right now',
      `The plan of ${account.domain} cannot be read right now, so no invoice can be made for it. Nothing is lost: the operator has been told and is fixing it; please try again later.`)),
    h('div', {class: 'row actions'}, back));
    back.focus();
    return;
  }
  const button = h('button', {type: 'button', 'data-test': 'renew-button'}, 'Create the renewal invoice');
  // The plan's smallest choice unless the customer picks another (the server prices it).
  let periods;
  const choice = periodChoice(plan, (n) => { periods = n; });
  if (choice) periods = plan.prepay[0].periods;
  const error = h('div');
  button.addEventListener('click', async () => {
    fill(error);
    const done = busy(button, 'Creating your invoice…');
    try {
      const answer = await api('POST', '/api/create-invoice', {accountId, periods});
      fill('renew');
      await startPayment(answer);
    } catch (e) {
      done();
      fill(error, purchaseError(e, null));
    }
  });
  card(h('p', {}, `${plan.name}${plan.onSale === false ? ' (no longer offered to new customers; yours carries on)' : ''}: `,
    `${money(plan.price, plan.currency)} for one more ${cycleWord(plan)}.`, ' ', renewalWhen(account)),
  account.status === 'SUSPENDED'
    ? h('div', {'data-test': 'suspended-warning'}, message('warn', 'This account is suspended by the operator',
      'Paying extends its paid period but does not lift the suspension: only the operator can. Contact them first if you are unsure.'))
    : null,
  choice, error, h('div', {class: 'row actions'}, button, back),
  h('details', {id: 'auto-renew', ontoggle: (e) => e.currentTarget.open && import('./autoRenew.js').then((m) => m.open(planOf, [account]))},
    h('summary', {}, 'Renew automatically'), h('div', {id: 'auto-renew-more'})));
  button.focus();
}

function renewalWhen(account) {
  if (!account.paidUntil) return '';
  return new Date(account.paidUntil).getTime() > Date.now()
    ? `It is paid until ${date(account.paidUntil)}; the new period is added after that.`
    : `It expired on ${date(account.paidUntil)}; the new period starts when you pay.`;
}
