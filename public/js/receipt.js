// The printable receipt (`/receipt.html?id=<payment id>`): the customer's own
// receipt from `GET /api/receipts/<id>`, and its signature checked here, in
// the browser, against the shop's key (BIP-340 with the vendored
// noble-secp256k1, loaded by this page only), so the page says whether the
// document is the one the operator signed.

import {api} from './api.js';
import {startCustomerPage} from './page.js';
import {byId, date, fill, h, message, money, query, show} from './ui.js';

const HEX64 = /^[0-9a-f]{64}$/;

start();

async function start() {
  const {session} = await startCustomerPage();
  if (session.state !== 'ready') return;
  const id = query('id');
  if (!id) {
    fill('gate', message('error', 'Which receipt?', 'This address names no receipt. Open it from the payments on “My hosting”.'));
    return;
  }
  let answer;
  try {
    answer = await api('GET', `/api/receipts/${encodeURIComponent(id)}`);
  } catch (error) {
    fill('gate', message('error', 'No receipt to show', error.message, h('a', {class: 'button secondary', href: '/profile.html'}, 'My hosting')));
    return;
  }
  render(answer.receipt);
  show('receipt');
  byId('print').addEventListener('click', () => window.print());
  fill('verified', await verdict(answer.receipt.event, answer.operator));
}

function render(r) {
  document.title = `Receipt ${r.label} — hostr`;
  fill('r-label', r.label);
  const s = r.seller || {};
  fill('seller', lines([s.name, s.address, s.vatId && `VAT ID: ${s.vatId}`]) || h('p', {class: 'muted'}, 'hostr'));
  const b = r.buyer || {};
  fill('buyer', lines([b.name, b.email, b.nip05, b.npub]));
  const sats = r.amountMsat ? `${Math.floor(r.amountMsat / 1000).toLocaleString()} sats` : null;
  const facts = [
    ['Receipt number', r.label],
    ['Date', date(r.issuedAt, true)],
    ['Service', `${r.planName}${r.domain ? ` for ${r.domain}` : ''}`],
    ['Period', r.periodStart ? `${date(r.periodStart)} – ${date(r.periodEnd)}${r.periods > 1 ? ` (${r.periods} periods)` : ''}` : null],
    ['Total', h('strong', {'data-test': 'receipt-total'}, money(r.amount, r.currency))],
    ['VAT', s.vatNote || null],
    ['Paid', sats],
    ['Rate', r.rate ? `${r.rate} ${r.currency} per BTC` : null],
    ['Payment method', r.method],
    ['Payment hash', r.paymentHash ? h('code', {}, r.paymentHash) : null],
  ];
  fill('facts', facts.filter(([, value]) => value).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
  if (r.series === 'sandbox') byId('facts').before(message('warn', 'Sandbox', 'This receipt is from a test setup: no real money was paid.'));
  fill('event', JSON.stringify(r.event, null, 2));
}

function lines(parts) {
  const kept = parts.filter(Boolean);
  return kept.length ? h('p', {}, kept.join('\n')) : null;
}

/** Whether `event` is intact and signed by the shop's key, said in words. */
async function verdict(event, operator) {
  const bad = (why) => h('div', {class: 'msg error', role: 'alert'}, h('strong', {}, '✗ Not verified'), h('p', {}, why));
  if (!(window.crypto && crypto.subtle)) {
    return h('div', {class: 'msg warn'}, h('strong', {}, 'Not checked'), h('p', {}, 'This browser cannot check signatures on a page that is not served over https.'));
  }
  try {
    if (!event || !HEX64.test(event.id) || !HEX64.test(event.pubkey) || !/^[0-9a-f]{128}$/.test(event.sig)) return bad('The receipt carries no well-formed signed event.');
    const serialized = JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content]);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(serialized)));
    if (hex(digest) !== event.id) return bad('The receipt was changed after it was signed: its id does not match its content.');
    const {schnorr, etc} = await import('./vendor/noble-secp256k1.js');
    const valid = await schnorr.verifyAsync(etc.hexToBytes(event.sig), digest, etc.hexToBytes(event.pubkey));
    if (!valid) return bad('The signature does not match the receipt.');
    if (event.pubkey !== operator.publicKey) return bad('The receipt is validly signed, but by another key than this shop’s.');
    return h('div', {class: 'msg ok', role: 'status', 'data-verified': 'true'}, h('strong', {}, '✓ Signature verified in your browser'),
      h('p', {}, 'Signed by this shop’s Nostr key ', h('code', {class: 'npub', title: operator.npub}, operator.npub), '. Anyone can check it again with the event below.'));
  } catch (error) {
    return bad(`The signature could not be checked: ${error.message}`);
  }
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
