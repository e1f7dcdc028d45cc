// The console's customers: search by npub, hex key, email or domain, and
// one customer with their accounts, payments, receipts and notices.

import {api} from './api.js';
import {startConsolePage} from './adminAuth.js';
import {byId, date, fill, h, message, money, shortNpub, show} from './ui.js';

async function search() {
  const q = encodeURIComponent(byId('q').value.trim());
  try {
    const {customers} = await api('GET', `/api/admin/customers?q=${q}`);
    fill('found', customers.length ? customers.map((c) => h('li', {},
      h('button', {type: 'button', class: 'secondary small', 'data-test': 'open-customer', onclick: () => showCustomer(c.id)},
        c.email || shortNpub(c.npub || c.publicKey)),
      ` ${c.status} · ${c.domains.join(', ') || 'no sites'} · since ${date(c.createdAt)}`)) : h('li', {}, 'Nobody matches.'));
  } catch (error) {
    fill('found', message('error', 'Search failed', error.message));
  }
}

function table(head, rows) {
  return h('table', {class: 'list'}, h('tr', {}, head.map((t) => h('th', {}, t))),
    rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))));
}

async function showCustomer(id) {
  const box = byId('customer');
  show(box, true);
  try {
    const c = await api('GET', `/api/admin/customers/${encodeURIComponent(id)}`);
    fill(box, h('h2', {}, c.customer.email || shortNpub(c.npub)),
      h('p', {class: 'small'}, h('code', {}, c.npub), ` · ${c.customer.status}`,
        c.customer.suspendReason ? ` · suspended because: ${c.customer.suspendReason}` : ''),
      h('h3', {}, 'Accounts'),
      table(['Username', 'Domain', 'Status', 'Plan', 'Paid until'], c.accounts.map((a) => [a.username, a.domain, a.status, a.planId, date(a.paidUntil)])),
      h('h3', {}, 'Payments'),
      table(['Created', 'Amount', 'State', 'Delivery', 'Receipt'], c.payments.map((p) => [date(p.createdAt, true), money(p.amount, p.currency), p.state,
        p.fulfilment.status + (p.fulfilment.lastError ? `: ${p.fulfilment.lastError}` : ''), p.receipt ? p.receipt.label : '—'])),
      h('h3', {}, 'Notices sent'),
      table(['Kind', 'State', 'Email', 'Nostr'], c.notices.map((n) => [n.kind, n.state, n.email ? n.email.state || '—' : '—', n.nostr ? n.nostr.state || '—' : '—'])));
  } catch (error) {
    fill(box, message('error', 'Cannot show this customer', error.message));
  }
}

byId('search').addEventListener('submit', (event) => {
  event.preventDefault();
  search();
});
startConsolePage(search);
