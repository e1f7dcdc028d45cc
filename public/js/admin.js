// The operator's console (/admin/): sign-in with the operator's Nostr key
// (the customers' challenge, an event for /api/admin/verify), the overview,
// actions confirmed with the server's own sentence, and the audit log.
// Everything from the server enters the page as text.

import {api} from './api.js';
import {startConsolePage} from './adminAuth.js';
import {byId, date, fill, h, message, money, sats, shortNpub, show} from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

function renderOverview(o) {
  const needs = o.needs.map((n) => h('li', {'data-kind': n.kind},
    h('strong', {}, n.kind.replaceAll('_', ' ')), ': ',
    n.path ? [h('code', {}, `${n.path}:${n.line}:${n.column}`), ' '] : null,
    n.id ? [h('code', {}, n.id), ' '] : null, n.message,
    n.kind === 'failed_fulfilment' ? [' ', h('button', {type: 'button', class: 'small', 'data-test': 'retry',
      onclick: () => review('payments/retry', {payment: n.id})}, 'Retry')] : null));
  fill('needs', needs.length ? needs : h('li', {class: 'none'}, 'Nothing needs you.'));
  const currencies = [...new Set(o.income.flatMap((m) => m.amounts.map((a) => a.currency)))];
  fill('income', currencies.map((c) => chart(c, o.income.map((m) => {
    const found = m.amounts.find((a) => a.currency === c);
    return [m.month, found ? Number(found.amount) : 0, found ? found.amount : '0'];
  }), (v) => money(v, c))), chart('sats', o.income.map((m) => [m.month, m.sats, String(m.sats)]), sats));
  fill('mrr', o.mrr.length ? o.mrr.map((a) => money(a.amount, a.currency)).join(' + ') : 'none');
  fill('accounts', Object.entries(o.accounts).map(([status, n]) => [h('dt', {}, status), h('dd', {}, String(n))]));
  fill('expiring', o.expiringSoon.length ? o.expiringSoon.map((a) => h('li', {}, `${a.username} (${a.domain}) until ${date(a.paidUntil)}`)) : h('li', {}, 'None.'));
  fill('orders', o.openOrders.length ? o.openOrders.map((p) => h('li', {}, `${money(p.amount, p.currency)} ${p.domain || 'renewal'} since ${date(p.createdAt, true)} `,
    h('button', {type: 'button', class: 'small secondary', onclick: () => review('payments/cancel', {payment: p.id})}, 'Cancel'))) : h('li', {}, 'None.'));
  byId('csv').href = `/api/admin/export/payments.csv?month=${o.income[o.income.length - 1].month}`;
}

/** A bar chart of `rows` ([month, value, exact text]) with the numbers beside it. */
function chart(label, rows, format) {
  const max = Math.max(...rows.map((r) => r[1]), 0) || 1;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${rows.length * 24} 110`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Income in ${label}, last 12 months`);
  rows.forEach(([month, value], i) => {
    const height = Math.round((value / max) * 90);
    const bar = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({x: i * 24 + 3, y: 95 - height, width: 18, height})) bar.setAttribute(k, v);
    const text = document.createElementNS(SVG, 'text');
    for (const [k, v] of Object.entries({x: i * 24 + 3, y: 107})) text.setAttribute(k, v);
    text.textContent = month.slice(5);
    svg.append(bar, text);
  });
  const table = h('table', {'data-test': `income-${label}`}, h('tr', {}, h('th', {}, 'Month'), h('th', {}, label)),
    rows.slice().reverse().map(([month, value, exact]) => h('tr', {'data-month': month}, h('td', {}, month), h('td', {'data-exact': exact}, format(value)))));
  return h('div', {class: 'chart'}, svg, table);
}

function actionBody() {
  const action = byId('act-action').value;
  const target = byId('act-target').value.trim();
  const body = action.startsWith('accounts/') ? {account: target} : action.startsWith('customers/') ? {customer: target} : {payment: target};
  const reason = byId('act-reason').value.trim();
  if (reason) body.reason = reason;
  if (action === 'accounts/suspend' && byId('act-message').value.trim()) body.message = byId('act-message').value.trim();
  if (action === 'accounts/extend') body.days = Number(byId('act-days').value);
  return [action, body];
}

/** Asks the server what `action` would do, then lets the operator confirm. */
async function review(action, body) {
  const box = byId('act-confirm');
  show(box, true);
  try {
    const preview = await api('POST', `/api/admin/${action}`, {...body, dryRun: true});
    fill(box, message('warn', 'Confirm', preview.confirm,
      h('button', {type: 'button', 'data-test': 'act-do', onclick: () => act(action, body)}, 'Do it'),
      h('button', {type: 'button', class: 'secondary', onclick: () => show(box, false)}, 'Cancel')));
  } catch (error) {
    fill(box, message('error', 'Refused', error.message));
  }
}

async function act(action, body) {
  const box = byId('act-confirm');
  try {
    const done = await api('POST', `/api/admin/${action}`, body);
    fill(box, message('ok', 'Done', done.confirm));
    renderOverview(await api('GET', '/api/admin/overview'));
    await loadAudit();
  } catch (error) {
    fill(box, message('error', 'Refused', error.message));
  }
}

async function loadAudit() {
  const q = encodeURIComponent(byId('audit-q').value.trim());
  const log = await api('GET', `/api/admin/audit?q=${q}&limit=50`);
  fill('audit', log.entries.length ? log.entries.map((e) => h('li', {},
    `${date(e.at, true)} · ${e.actor.startsWith('npub') ? shortNpub(e.actor) : e.actor} · ${e.action} · ${e.target.type} `,
    h('code', {}, e.target.id), e.reason ? ` · \u201c${e.reason}\u201d` : '',
    Object.keys(e.after || {}).length ? h('div', {class: 'small muted'}, Object.keys(e.after).map((k) =>
      `${k}: ${JSON.stringify(e.before[k])} \u2192 ${JSON.stringify(e.after[k])}`).join('; ')) : null)) : h('li', {}, 'Nothing yet.'));
}

byId('act').addEventListener('submit', (event) => {
  event.preventDefault();
  review(...actionBody());
});
byId('audit-filter').addEventListener('submit', (event) => {
  event.preventDefault();
  loadAudit();
});
byId('audit-q').addEventListener('input', () => loadAudit());
startConsolePage(async () => {
  renderOverview(await api('GET', '/api/admin/overview'));
  await loadAudit();
});
