// "Renew automatically" on an account's renewal page (loaded when opened;
// the profile's "Renew" leads there, and the profile's first load has no
// room left in its budget): per account,
// whether a wallet (Nostr Wallet Connect, NIP-47) renews it, the next
// attempt and the last outcome; connect with a cap and a number of periods,
// or disconnect. The connection string goes to the server once and is never
// shown again.

import {api} from './api.js';
import {busy, date, fill, h, money} from './ui.js';

/** Shows the automatic renewal of `accounts` (the profile's) in
 * `#auto-renew-more`; `planOf(planId)` gives prices and prepay choices. */
export async function open(planOf, accounts) {
  try {
    render(await api('GET', '/api/auto-renew'), planOf, accounts);
  } catch (error) {
    fill('auto-renew-more', h('div', {class: 'field-error', role: 'alert'}, error.message));
  }
}

function render(state, planOf, accounts) {
  if (!state.on) {
    fill('auto-renew-more', h('p', {class: 'small muted'}, 'Automatic renewal is not offered by this server.'));
    return;
  }
  const shown = state.accounts.filter((a) => accounts.some((b) => b.id === a.accountId));
  fill('auto-renew-more', ...shown.map((a) => card(a, planOf(accounts.find((b) => b.id === a.accountId).planId), state, planOf, accounts)));
}

function card(a, plan, state, planOf, accounts) {
  const again = () => open(planOf, accounts);
  const box = h('div', {class: 'auto-renew', 'data-account': a.accountId},
    h('h3', {}, a.domain), h('p', {'data-test': 'auto-renew-state'}, summary(a, plan)));
  const result = h('div', {'aria-live': 'polite'});
  if (a.alias) {
    const off = h('button', {type: 'button', class: 'secondary', 'data-test': 'auto-renew-disconnect'}, 'Disconnect');
    off.addEventListener('click', async () => {
      const done = busy(off, 'Disconnecting…');
      try {
        await api('POST', '/api/auto-renew/disconnect', {accountId: a.accountId});
        await again();
      } catch (error) {
        fill(result, h('div', {class: 'field-error', role: 'alert'}, error.message));
        done();
      }
    });
    box.append(h('div', {class: 'row actions'}, off), result);
    return box;
  }
  box.append(form(a, plan, state, result, again), result);
  return box;
}

/** On or off, the wallet and cap, the next attempt, the last outcome. */
function summary(a, plan) {
  if (!a.alias) return 'Off: you renew by hand.';
  const status = a.on ? `On: ${a.alias} pays up to ${a.capSats} sats for ${periods(a.periods, plan)}.`
    : `Off: ${a.alias} refused the connection; renew by hand or connect a wallet again.`;
  const next = a.nextAttemptAt ? ` Next attempt ${date(a.nextAttemptAt)}, about ${a.nextAmountSats} sats.` : '';
  const last = a.last ? ` Last attempt ${date(a.last.at)}: ${a.last.result}${a.last.message ? ` (${a.last.message})` : ''}.` : '';
  return status + next + last;
}

function periods(n, plan) {
  const cycle = plan ? plan.billingCycle : 'billing';
  return n === 1 ? `one ${cycle} period` : `${n} ${cycle} periods`;
}

function form(a, plan, state, result, again) {
  const id = (name) => `auto-renew-${name}-${a.accountId}`;
  const choices = plan && plan.prepay && plan.prepay.length ? plan.prepay : [{periods: a.periods}];
  const select = h('select', {id: id('periods')}, ...choices.map((c) => h('option',
    {value: String(c.periods), selected: c.periods === a.periods},
    `${periods(c.periods, plan)}${c.price && plan ? ` (${money(c.price, plan.currency)})` : ''}`)));
  const hint = a.defaultCapSats ? `Default: ${a.defaultCapSats} sats${plan ? `, for ${money((choices.find((c) => c.periods === a.periods) || {}).price || plan.price, plan.currency)}` : ''} and a margin for the exchange rate.` : 'Give a cap: no price in sats is known for this account yet.';
  const f = h('form', {novalidate: '', 'data-test': 'auto-renew-form'},
    h('label', {for: id('uri')}, 'Wallet connection (nostr+walletconnect://…)'),
    h('input', {id: id('uri'), type: 'password', autocomplete: 'off', spellcheck: 'false'}),
    h('label', {for: id('periods')}, 'Each renewal buys'), select,
    h('label', {for: id('cap')}, 'Cap per renewal, in sats'),
    h('input', {id: id('cap'), type: 'number', min: '1', step: '1', placeholder: a.defaultCapSats ? String(a.defaultCapSats) : ''}),
    h('p', {class: 'small muted'}, hint, ` We ask the wallet ${state.daysBefore} day(s) before your hosting ends.`),
    h('div', {class: 'row actions'}, h('button', {type: 'submit'}, 'Renew automatically')));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(result);
    const done = busy(f.querySelector('button'), 'Connecting…');
    const cap = f.querySelector(`#${CSS.escape(id('cap'))}`).value.trim();
    const body = {accountId: a.accountId, uri: f.querySelector(`#${CSS.escape(id('uri'))}`).value.trim(),
      periods: Number(select.value)};
    if (cap) body.capSats = Number(cap);
    try {
      const connected = await api('POST', '/api/auto-renew', body);
      await again();
      const box = document.querySelector(`[data-account="${a.accountId}"]`);
      if (box) box.append(h('div', {class: 'field-ok', 'data-test': 'auto-renew-connected'}, connected.message));
    } catch (error) {
      fill(result, h('div', {class: 'field-error', role: 'alert', 'data-test': 'auto-renew-error'}, explain(error)));
      done();
    }
  });
  return f;
}

/** The server's words, with what to do about a refused relay. */
function explain(error) {
  if (error.code === 'wallet_relay_refused') {
    return `${error.message} We only connect to public wss:// relays; choose a wallet connection on such a relay.`;
  }
  return error.message;
}
