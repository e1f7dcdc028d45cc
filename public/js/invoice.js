// The invoice being paid, kept live: the QR code and every way to pay it
// (WebLN, open in wallet, copy, simulate), the amount in sats and the rate,
// and a new quote for the same order whenever the old one expires.
// Loaded by products.js when a payment is shown, so the plans load light.
//
// Invariant: a quote is shown payable only while the server's clock, as
// estimated from the answer's `serverTime`, is a second before the quote's
// own `expiresAt`; the moment it is not (a timer set for that moment, every
// countdown tick, every click on a pay action, the page becoming visible)
// the QR code and the pay actions are taken away. Until `payableUntil` (the
// payment's own lifetime) a new quote is then fetched while the page is
// visible; after it, the page says the time to pay is over.

import {api} from './api.js';
import {busy, copyButton, fill, h, message, money, sats, spinner} from './ui.js';

/** The server's clock minus ours, from the last answer. `serverTime` is
 * cut to the second, so a second is added, and it was read after the
 * request was sent (`sentAt`), however slow the answer: the page may think
 * a quote expired up to a second and a round trip early, never late. */
let offset = 0;
let timers = [];
/** The payment whose quote was replaced on this page: its next quotes are
 * announced as a new invoice for the same order. */
let renewedFor = null;
let fetching = false;
let retryMs = 1000;

/** Takes the server's clock from an answer of create- or check-invoice. */
export function noteServerTime(answer) {
  const at = Date.parse(answer && answer.serverTime);
  if (!Number.isNaN(at)) offset = at + 1000 - (answer.sentAt || Date.now());
}

function serverNow() {
  return Date.now() + offset;
}

/** When the page stops offering a quote: a second before it expires, so a
 * timer that fires late on a busy device still takes it away in time. */
const ends = (payment) => Date.parse(payment.expiresAt) - 1000;

/** Whether the payment's current quote may be paid right now. */
export function payable(payment) {
  return Boolean(payment.bolt11 && payment.expiresAt) && serverNow() < ends(payment);
}

/** Of two answers for one pending payment, the one with the later quote: a
 * poll that was on its way while a new quote came must not bring back the old one. */
export function newer(shown, answer) {
  if (!shown || shown.payment.id !== answer.payment.id || answer.payment.state !== 'PENDING') return answer;
  const at = (a) => Date.parse(a.payment.expiresAt || '') || 0;
  if (at(answer) >= at(shown)) return answer;
  const quote = ['bolt11', 'expiresAt', 'quoteSats', 'quoteRate'];
  const payment = {...answer.payment, ...Object.fromEntries(quote.map((k) => [k, shown.payment[k]]))};
  return {...answer, payment, qrSvg: shown.qrSvg};
}

/** Stops the countdown and the expiry timer of the view shown. */
export function stopInvoice() {
  for (const timer of timers) clearTimeout(timer);
  timers = [];
}

/** The view of a pending payment. `page`: `{answer, what, sandbox, renewal,
 * rerender, accept, poll, cancelPayment}` from products.js. */
export function pendingView(page) {
  stopInvoice();
  const {payment} = page.answer;
  let body;
  if (payable(payment)) body = payView(page);
  else if (serverNow() < Date.parse(page.answer.payableUntil)) body = renewingView(page);
  else body = overView(page);
  const over = body.dataset.test === 'payment-over';
  return [
    h('h2', {id: 'payment-title', tabindex: '-1'}, 'Pay with Lightning'),
    body,
    // Once over, "start a new order" is the one way on (and cancels this one).
    over ? null : page.renewal
      ? h('a', {href: '/profile.html', 'data-test': 'renew-back'}, 'Not now, back to my hosting')
      : h('button', {type: 'button', class: 'link', 'data-test': 'cancel-payment', onclick: (e) => page.cancelPayment(e.currentTarget)}, 'Cancel and choose another plan'),
  ];
}

/** The amount, in the plan's currency and in sats, with the rate used. */
function amountLines(payment, what) {
  const rate = payment.quoteRate;
  const inSats = payment.currency === 'SAT' || payment.quoteSats === null || payment.quoteSats === undefined ? null
    : h('div', {class: 'muted', 'data-test': 'sats'}, payment.currency === 'BTC' ? `= ${sats(payment.quoteSats)}`
      : `≈ ${sats(payment.quoteSats)}${rate ? ` at 1 ${rate.sourceCurrency} = ${money(rate.amount, rate.targetCurrency)}` : ''}`);
  return h('div', {},
    h('div', {class: 'amount', 'data-test': 'amount'}, money(payment.amount, payment.currency)),
    inSats,
    h('div', {class: 'muted'}, what));
}

function payView(page) {
  const {answer, what, sandbox} = page;
  const {payment} = answer;
  const bolt11 = payment.bolt11;
  const countdown = h('span', {class: 'countdown'});
  // Every pay action looks at the clock first: a quote that expired a
  // moment ago is not paid, the view is redrawn.
  const live = (action) => (event) => {
    if (payable(payment)) return action(event);
    event.preventDefault();
    page.rerender();
  };
  const tick = () => {
    const left = Math.ceil((ends(payment) - serverNow()) / 1000);
    if (left <= 0) {
      page.rerender();
      return;
    }
    countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    timers.push(setTimeout(tick, Math.min(1000, ends(payment) - serverNow())));
  };
  tick();
  const weblnError = h('div');
  const copy = copyButton(bolt11, 'Copy invoice', '');
  copy.addEventListener('click', (event) => { if (!payable(payment)) { event.stopImmediatePropagation(); page.rerender(); } }, {capture: true});
  const actions = h('div', {class: 'row', 'data-test': 'pay-actions'},
    weblnAvailable() ? h('button', {type: 'button', 'data-test': 'webln', onclick: live((e) => payWithWebLN(page, e.currentTarget, weblnError))}, '⚡ Pay with WebLN') : null,
    h('a', {class: 'button secondary', href: `lightning:${bolt11}`, 'data-test': 'open-wallet', onclick: live(() => {})}, 'Open in wallet'),
    copy);
  const simulate = sandbox || payment.sandbox
    ? h('div', {class: 'msg warn', 'data-test': 'sandbox-pay'},
      h('strong', {}, 'Sandbox — no real money'),
      h('p', {}, 'This invoice cannot be paid with a real wallet. Simulate the payment to continue.'),
      h('div', {class: 'row actions'}, h('button', {type: 'button', 'data-test': 'simulate', onclick: live((e) => simulatePayment(page, e.currentTarget))}, 'Simulate payment')))
    : null;
  const renewed = renewedFor === payment.id
    ? h('p', {class: 'field-ok', 'data-test': 'new-invoice-note'}, 'A new invoice for the same order: the previous one expired unpaid, and nothing was charged.')
    : null;
  return h('div', {class: 'pay', 'data-test': 'payable', 'data-bolt11': bolt11, 'data-expires-at': payment.expiresAt},
    h('div', {class: 'qr'}, answer.qrSvg
      ? h('img', {src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(answer.qrSvg)}`, alt: 'QR code of the Lightning invoice: scan it with your wallet'})
      : spinner('Preparing the invoice…')),
    h('div', {class: 'stack'},
      amountLines(payment, what),
      h('div', {class: 'status-line', role: 'status'}, h('span', {class: 'spinner', 'aria-hidden': 'true'}),
        h('span', {'data-test': 'pay-status'}, 'Waiting for your payment…')),
      renewed,
      h('p', {class: 'small'}, 'This invoice is valid for ', countdown, '.'),
      simulate, actions, weblnError,
      h('details', {}, h('summary', {}, 'Show the invoice text'), h('div', {class: 'bolt11', 'data-test': 'bolt11'}, bolt11)),
      h('p', {class: 'small muted'}, 'Scan the QR code with any Lightning wallet. This page updates by itself when the payment arrives.')));
}

/** The quote expired within the payment's lifetime: one calm state while
 * a new invoice for the same order is fetched (only while the page is seen). */
function renewingView(page) {
  const {payment} = page.answer;
  const note = h('div', {'data-test': 'renew-note'});
  if (!document.hidden) timers.push(setTimeout(() => fetchQuote(page, note), 0));
  return h('div', {class: 'stack', 'data-test': 'renewing'},
    amountLines(payment, page.what),
    h('div', {class: 'status-line', role: 'status'}, h('span', {class: 'spinner', 'aria-hidden': 'true'}),
      h('span', {'data-test': 'pay-status'}, 'Getting a new invoice for the same order…')),
    h('p', {class: 'small muted'}, 'Lightning invoices are valid for a short time; the price of your order stays the same and nothing was charged.'),
    note);
}

async function fetchQuote(page, note) {
  if (fetching || document.hidden) return;
  fetching = true;
  const id = page.answer.payment.id;
  try {
    const answer = await api('GET', `/api/check-invoice?paymentId=${encodeURIComponent(id)}&refresh=true`);
    renewedFor = id;
    noteServerTime(answer);
    fill(note);
    retryMs = 1000;
    page.accept(answer);
    // Still no payable quote (the server paces requests): ask again shortly.
    if (answer.payment.state === 'PENDING' && !payable(answer.payment)) timers.push(setTimeout(() => page.rerender(), retryMs));
  } catch (error) {
    retryMs = Math.min(30000, retryMs * 2);
    fill(note, message('warn', null, `A new invoice could not be fetched yet: ${error.message} We keep trying; nothing was charged.`));
    timers.push(setTimeout(() => page.rerender(), retryMs));
  } finally {
    fetching = false;
  }
}

/** The payment's own lifetime is over and its last quote expired: nothing
 * is payable any more. Starting a new order cancels this one, which frees
 * its domain at once (rather than a minute later, when it expires). */
function overView(page) {
  const {payment} = page.answer;
  return h('div', {'data-test': 'payment-over'}, message('warn', 'The time to pay this order is over',
    'Its invoice expired unpaid, so nothing was charged. If you paid at the very last moment, the payment is still recognised and your account set up.',
    page.renewal
      ? h('a', {class: 'button', href: `/products.html?renew=${encodeURIComponent(payment.accountId)}`, 'data-test': 'start-again'}, 'Start the renewal again')
      : h('button', {type: 'button', 'data-test': 'start-again', onclick: (e) => page.cancelPayment(e.currentTarget)}, 'Start a new order')));
}

/** A WebLN wallet (Alby and others) that can pay in one click. */
function weblnAvailable() {
  return typeof window.webln === 'object' && window.webln !== null && typeof window.webln.sendPayment === 'function';
}

async function simulatePayment(page, button) {
  const done = busy(button, 'Simulating…');
  try {
    await api('POST', '/api/sandbox/pay', {paymentId: page.answer.payment.id});
    await page.poll();
  } catch (error) {
    done();
    button.closest('.msg').after(message('error', 'The simulated payment failed', error.message));
  }
}

async function payWithWebLN(page, button, errorBox) {
  fill(errorBox);
  const done = busy(button, 'Waiting for your wallet…');
  try {
    await window.webln.enable();
    await window.webln.sendPayment(page.answer.payment.bolt11);
    // The wallet says it paid; the payment counts once Strike confirms it,
    // which the page keeps asking for as it does for any invoice.
    button.replaceWith(h('p', {class: 'field-ok', role: 'status', 'data-test': 'webln-sent'},
      '✓ Payment sent from your wallet. Waiting for the confirmation…'));
    await page.poll();
  } catch (error) {
    done();
    fill(errorBox, message('error', 'Your wallet did not pay',
      `${error && error.message ? error.message : 'The payment was refused or failed.'} Nothing was charged; you can try again or scan the QR code with another wallet.`));
  }
}
