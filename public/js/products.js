// The products page: plans (selectPkg), the domain, the invoice (buyPkg),
// live status, and success. Paying the invoice (QR, copy, WebLN, sandbox,
// new quotes) is invoice.js, loaded once there is a payment to show.

import {api, ApiError} from './api.js';
import {startCustomerPage} from './page.js';
import {busy, byId, date, fill, h, message, money, query, show, spinner} from './ui.js';

let plans = [];
let selected = null;
/** How many periods of the selected plan to buy (undefined: the plan's one). */
let periods;
let profile = null;
let sandbox = false;
/** The payment being paid: `{payment, qrSvg, account}` from the server. */
let current = null;
let shownKey = '';
let pollTimer = null;
let pollFailures = 0;
/** invoice.js, once loaded. */
let invoice = null;

async function start() {
  const started = await startCustomerPage();
  const {session, plansError} = started;
  const health = await started.health;
  sandbox = Boolean(health && health.sandbox && health.sandbox.payments);
  profile = session.profile || null;

  if (plansError) {
    fill('plans', message('error', 'The plans could not be loaded', plansError.message,
      h('button', {type: 'button', onclick: () => location.reload()}, 'Reload')));
  } else {
    plans = started.plans;
    renderPlans();
  }
  byId('buy-form').addEventListener('submit', (event) => { event.preventDefault(); buyPkg(); });
  byId('buy-cancel').addEventListener('click', () => selectPkg(null));
  const input = byId('domain');
  input.addEventListener('input', () => showDomainCheck(false));
  input.addEventListener('blur', () => { if (input.value.trim()) showDomainCheck(true); });
  document.addEventListener('visibilitychange', onVisibility);

  const linked = await linkedPlan();
  if (session.state !== 'ready') return;
  const paymentId = query('payment');
  const renewId = query('renew');
  if (paymentId) resume(paymentId);
  else if (linked) selectPkg(linked);
  else if (renewId) {
    // The renewal offer is its own module, loaded only for renewals.
    import('./renewal.js').then((m) => m.offerRenewal(renewId, {profile, planOf, cycleWord, periodChoice, startPayment, purchaseError}))
      .catch((error) => fill('renew', message('error', 'This page could not load', error.message)));
  }
}

/** A plan by id: on sale, or one the customer's accounts and payments name
 * (`profile.plans`, which has `null` for one that cannot be read). */
function planOf(id) {
  return plans.find((p) => p.id === id) || (profile && profile.plans && profile.plans[id]) || null;
}

function cycleWord(plan) {
  return plan.billingCycle === 'yearly' ? 'year' : 'month';
}

/** How many periods to pay at once, as a labelled <select> with each
 * choice's price from the server, or null when the plan sells only one;
 * `onPick(periods, price)` hears the choice. */
function periodChoice(plan, onPick) {
  const options = plan.prepay || [];
  if (options.length < 2) return null;
  const word = cycleWord(plan);
  const select = h('select', {id: 'periods', 'data-test': 'periods'}, options.map((o) => h('option', {value: o.periods},
    `${o.periods} ${word}${o.periods > 1 ? 's' : ''}: ${money(o.price, plan.currency)}${o.discountPercent ? ` (${o.discountPercent}% off)` : ''}`)));
  select.addEventListener('change', () => onPick(Number(select.value), options[select.selectedIndex].price));
  return h('div', {}, h('label', {for: 'periods'}, 'Pay for'), select);
}

function renderPlans() {
  if (!plans.length) {
    fill('plans', message('info', 'No plans on sale right now', 'Please come back later.'));
    return;
  }
  const signedIn = Boolean(profile);
  fill('plans', plans.map((plan) => h('article', {class: 'card plan', 'data-plan': plan.id, 'aria-labelledby': `plan-${plan.id}`},
    h('h3', {id: `plan-${plan.id}`}, plan.name),
    h('div', {class: 'price'}, money(plan.price, plan.currency), h('span', {}, ` / ${cycleWord(plan)}`)),
    h('ul', {},
      h('li', {}, `${plan.storage} GB storage`),
      h('li', {}, `${plan.bandwidth} GB monthly transfer`),
      // Further accounts are added on the profile (POST /api/add-account).
      h('li', {}, plan.accounts > 1 ? `${plan.accounts} cPanel accounts, each with its own domain` : '1 cPanel account'),
      h('li', {}, 'Email, databases and one-click apps')),
    signedIn
      ? h('button', {type: 'button', class: 'choose', 'data-test': `choose-${plan.id}`, 'aria-label': `Choose ${plan.name}`, onclick: () => selectPkg(plan.id)}, 'Choose this plan')
      : h('a', {class: 'button choose secondary', href: `/?plan=${encodeURIComponent(plan.id)}`}, 'Sign in to buy'))));
}

/** The plan a link chose (`?plan=<id>`, or `?naddr=` from a Nostr
 * listing), if it is on sale; says so when it is not. */
async function linkedPlan() {
  let id = query('plan');
  const naddr = query('naddr');
  if (!id && naddr) {
    try {
      id = (await api('GET', `/api/listing?naddr=${encodeURIComponent(naddr)}`)).plan;
    } catch (error) {
      fill('plan-link', message('error', 'That listing does not lead to a plan here', error.message));
      return null;
    }
  }
  if (!id) return null;
  const plan = plans.find((p) => p.id === id);
  if (!plan) {
    fill('plan-link', message('info', 'That plan is not on sale any more', 'Choose one of the plans below.'));
    return null;
  }
  const card = document.querySelector(`.plan[data-plan="${CSS.escape(id)}"]`);
  if (card) card.setAttribute('aria-current', 'true');
  return id;
}

/** Selects a plan (or none) and asks for the domain. */
export function selectPkg(planId) {
  selected = plans.find((p) => p.id === planId) || null;
  for (const card of document.querySelectorAll('.plan')) {
    card.setAttribute('aria-current', String(selected !== null && card.dataset.plan === selected.id));
  }
  show('buy', Boolean(selected));
  fill('buy-error');
  if (!selected) return;
  fill('buy-plan', `${selected.name}: ${selected.storage} GB storage, ${selected.bandwidth} GB transfer, `,
    `${money(selected.price, selected.currency)} a ${cycleWord(selected)}.`);
  const plan = selected;
  const priced = (n, price) => {
    periods = n;
    byId('buy-button').textContent = `Buy for ${money(price, plan.currency)}`;
  };
  const first = (plan.prepay || [])[0];
  priced(first ? first.periods : undefined, first ? first.price : plan.price);
  fill('buy-periods', periodChoice(plan, priced));
  byId('buy').scrollIntoView({behavior: 'smooth', block: 'start'});
  byId('domain').focus({preventScroll: true});
}

/** `{ok, domain}` or `{ok: false, problem}`, by the rules the server uses. */
export function checkDomain(raw) {
  const text = raw.trim();
  if (!text) return {ok: false, problem: 'Type the domain name, such as example.com.'};
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.includes('/')) {
    return {ok: false, problem: 'Type only the domain name, without http:// or slashes: example.com.'};
  }
  if (/\s/.test(text)) return {ok: false, problem: 'A domain name has no spaces.'};
  // As the server does: lower case, no final dot, no leading `www.` (cPanel
  // serves it by itself) as long as a domain is left: `www.www.x.com` is `x.com`.
  let domain = text.replace(/\.+$/, '').toLowerCase();
  // A domain with accents or other scripts (bücher.de) becomes its ASCII
  // form (xn--bcher-kva.de) the way the browser itself resolves it; the
  // server converts by the same IDNA rules.
  let unicode = null;
  if (/[^\x00-\x7f]/.test(domain)) {
    try {
      unicode = domain;
      domain = new URL(`http://${domain}/`).hostname;
    } catch {
      return {ok: false, problem: 'That is not a domain name, such as example.com or bücher.de.'};
    }
  }
  while (domain.startsWith('www.') && domain.slice(4).includes('.')) domain = domain.slice(4);
  if (unicode) unicode = unicode.replace(/^(www\.)+(?=.*\.)/, '');
  const bad = domain.match(/[^a-z0-9.-]/);
  if (bad) return {ok: false, problem: `A domain name has only letters, digits, hyphens and dots; “${bad[0]}” is not allowed.`};
  if (domain.length > 253) return {ok: false, problem: 'That is too long for a domain name (at most 253 characters).'};
  const labels = domain.split('.');
  if (labels.length < 2) return {ok: false, problem: 'Add the ending, such as .com or .org.'};
  if (labels.some((l) => l === '')) return {ok: false, problem: 'There are two dots in a row, or a dot at the start.'};
  if (labels.some((l) => l.length > 63)) return {ok: false, problem: 'Each part between dots can have at most 63 characters.'};
  if (labels.some((l) => l.startsWith('-') || l.endsWith('-'))) {
    return {ok: false, problem: 'A part between dots cannot start or end with a hyphen.'};
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    return {ok: false, problem: 'That looks like an IP address; type a domain name such as example.com.'};
  }
  return {ok: true, domain, unicode};
}

/** Validation as you type: praise at once, complain after a blur or submit. */
function showDomainCheck(strict) {
  const input = byId('domain');
  const result = checkDomain(input.value);
  if (result.ok) {
    input.removeAttribute('aria-invalid');
    fill('domain-check', h('div', {class: 'field-ok', 'data-test': 'domain-ok'},
      result.unicode ? `✓ ${result.unicode} (${result.domain})` : `✓ ${result.domain}`));
  } else if (strict || input.getAttribute('aria-invalid') === 'true') {
    input.setAttribute('aria-invalid', 'true');
    fill('domain-check', h('div', {class: 'field-error', 'data-test': 'domain-error'}, result.problem));
  } else {
    fill('domain-check');
  }
  return result;
}

/** Creates the invoice for the selected plan and domain. */
export async function buyPkg() {
  if (!selected) return;
  fill('buy-error');
  const result = showDomainCheck(true);
  if (!result.ok) {
    byId('domain').focus();
    return;
  }
  const done = busy(byId('buy-button'), 'Creating your invoice…');
  try {
    const answer = await api('POST', '/api/create-invoice', {planId: selected.id, domain: result.domain, periods});
    done();
    await startPayment(answer);
  } catch (error) {
    done();
    if (error.code === 'domain_yours') {
      const own = ((profile && profile.cpanelAccounts) || []).find((a) => a.domain === result.domain);
      fill('domain-check', h('div', {class: 'field-error', 'data-test': 'domain-yours'},
        `You already host ${result.unicode || result.domain} here. `,
        own ? h('a', {class: 'button secondary', href: `/products.html?renew=${encodeURIComponent(own.id)}`}, 'Renew it') : null));
      return;
    }
    if (error.code === 'bad_domain' || error.code === 'domain_taken') {
      byId('domain').setAttribute('aria-invalid', 'true');
      fill('domain-check', h('div', {class: 'field-error', 'data-test': 'domain-error'},
        error.code === 'domain_taken'
          ? `${result.domain} is already hosted here, or someone is buying it right now. Choose another domain.`
          : error.message));
      byId('domain').focus();
      return;
    }
    fill('buy-error', purchaseError(error, () => buyPkg()));
  }
}

/** The words for a failed purchase request, with a way forward (`retry`:
 * a "Try again" button, unless the page's own button already is one). */
function purchaseError(error, retry) {
  const again = retry ? h('button', {type: 'button', onclick: retry}, 'Try again') : null;
  if (error instanceof ApiError && error.status === 401) {
    return message('error', 'Your session ended', 'Please sign in again; nothing was bought.',
      h('a', {class: 'button', href: '/'}, 'Sign in'));
  }
  if (error.code === 'payment_provider_error' || [502, 503, 504].includes(error.status)) {
    return h('div', {'data-test': 'payment-failure'}, message('error', 'Payment failure — the payment provider is unreachable',
      `We could not get a Lightning invoice from the payment provider: ${error.message} Nothing was charged. Your order is kept; try again in a minute.`,
      again));
  }
  if (error.code === 'customer_deleted') {
    return message('error', 'Your account is deleted', 'Recover it on your profile page before buying.',
      h('a', {class: 'button', href: '/profile.html'}, 'Go to my profile'));
  }
  if (error.code === 'account_terminated') {
    return message('error', 'This account was removed', error.message,
      h('a', {class: 'button', href: '/products.html'}, 'Choose a plan'));
  }
  if (error.code === 'customer_suspended') {
    return message('error', 'Your account is suspended', `${error.message} Contact the operator to resolve it.`);
  }
  if (error.code === 'too_many_open_purchases') {
    return message('warn', 'You have other orders waiting to be paid', error.message,
      h('a', {class: 'button secondary', href: '/profile.html'}, 'See my orders'));
  }
  return message('error', 'The invoice could not be created', error.message, again);
}

async function resume(paymentId) {
  fill('payment', spinner('Loading your payment…'));
  show('payment', true);
  try {
    await startPayment(await api('GET', `/api/check-invoice?paymentId=${encodeURIComponent(paymentId)}`));
  } catch (error) {
    fill('payment', message('error', 'This payment could not be loaded', error.message,
      h('a', {class: 'button', href: '/products.html'}, 'Choose a plan')));
  }
}

async function startPayment(answer) {
  invoice = invoice || await import('./invoice.js');
  invoice.noteServerTime(answer);
  current = answer;
  shownKey = '';
  pollFailures = 0;
  history.replaceState(null, '', `/products.html?payment=${encodeURIComponent(answer.payment.id)}`);
  byId('page-title').textContent = isRenewal(answer.payment) ? 'Renew your hosting' : 'Complete your order';
  show('intro', false);
  show('plans-section', false);
  show('buy', false);
  show('payment', true);
  renderPayment();
  byId('payment').scrollIntoView({block: 'start'});
  const heading = byId('payment-title');
  if (heading) heading.focus({preventScroll: true});
  schedulePoll();
}

function isRenewal(payment) {
  return !payment.domain;
}

function planName(payment) {
  return (planOf(payment.planId) || {}).name || 'your plan';
}

/** The domain a payment is for; a renewal's is its account's. */
function domainOf(payment) {
  const account = current.account || ((profile && profile.cpanelAccounts) || []).find((a) => a.id === payment.accountId);
  return payment.domain || (account ? account.domain : 'your account');
}

/** Delivered: a renewal once its fulfilment is DONE (whatever the account's
 * state, or the page would poll forever for an account the operator holds),
 * a new account as soon as it is ACTIVE. */
function succeeded() {
  const {payment, account} = current;
  return payment.state === 'PAID' && Boolean(account) &&
    (payment.fulfilment.status === 'DONE' || (!isRenewal(payment) && account.status === 'ACTIVE'));
}

/** Draws the payment panel when what it shows has changed. */
function renderPayment() {
  const {payment, account} = current;
  const key = [payment.state, payment.fulfilment && payment.fulfilment.status, payment.fulfilment && payment.fulfilment.attempts,
    payment.bolt11, payment.expiresAt, account && account.status].join('|');
  if (key === shownKey) return;
  shownKey = key;
  invoice.stopInvoice();
  const change = {upgrade: 'Upgrade', cycleChange: 'New billing cycle'}[payment.kind];
  const what = change ? `${change} of ${domainOf(payment)} to ${planName(payment)}`
    : isRenewal(payment) ? `Renewal of ${domainOf(payment)} · ${planName(payment)}` : `${planName(payment)} · ${payment.domain}`;
  if (payment.state === 'PENDING') {
    fill('payment', invoice.pendingView({answer: current, what, sandbox, renewal: isRenewal(payment),
      rerender, accept, poll, cancelPayment}));
  }
  else if (payment.state === 'PAID') fill('payment', succeeded() ? successView(payment, account) : paidView(payment, account));
  else fill('payment', closedView(payment));
  // The button that had focus (Simulate, WebLN) is gone: keep keyboard and
  // screen-reader users at the new view.
  if (!document.activeElement || document.activeElement === document.body) {
    byId('payment-title')?.focus({preventScroll: true});
  }
}

/** Draws the payment again, judging its quote by the clock now. */
function rerender() {
  shownKey = '';
  if (current) renderPayment();
}

/** Takes a newer answer about the payment shown. */
function accept(answer) {
  current = invoice.newer(current, answer);
  renderPayment();
  schedulePoll();
}

function paidView(payment, account) {
  const failed = payment.fulfilment.status === 'FAILED';
  const attempts = payment.fulfilment.attempts || 0;
  const task = isRenewal(payment) ? 'extending your account' : 'setting up your account';
  return [
    h('h2', {id: 'payment-title', tabindex: '-1'}, 'Payment received'),
    failed
      ? h('div', {'data-test': 'payment-failure'}, message('warn', payment.fulfilment.nextAttemptAt
        ? `Payment failure — ${task} failed, and is being retried`
        : `Payment failure — ${task} needs the operator`,
        `Your payment arrived, but ${task} did not work yet${attempts ? ` (attempt ${attempts})` : ''}. ` +
        (payment.fulfilment.nextAttemptAt
          ? 'We keep retrying automatically; there is nothing more to pay. '
          : 'It waits for the operator to fix the cause on the hosting server; there is nothing more to pay. ') +
        'You can leave this page: your profile shows the account as soon as it is ready.',
        h('a', {class: 'button secondary', href: '/profile.html'}, 'Go to my profile')))
      : h('div', {class: 'status-line', role: 'status'}, h('span', {class: 'spinner', 'aria-hidden': 'true'}),
        h('span', {'data-test': 'pay-status'}, isRenewal(payment)
          ? `Payment received. Extending ${domainOf(payment)} (${planName(payment)})…`
          : `Payment received. Setting up your hosting for ${payment.domain}${account && account.username ? ` (user ${account.username})` : ''}…`)),
    h('p', {class: 'small muted'}, 'This usually takes less than a minute.'),
  ];
}

function successView(payment, account) {
  stopPolling();
  return h('div', {class: 'success', 'data-test': 'success'},
    h('div', {class: 'check', 'aria-hidden': 'true'}, '✓'),
    h('h2', {id: 'payment-title', tabindex: '-1'}, payment.kind ? 'Plan changed — thank you!' : isRenewal(payment) ? 'Renewed — thank you!' : 'Your hosting is ready'),
    h('p', {}, isRenewal(payment)
      ? `${account.domain} is paid until ${date(account.paidUntil)} (${planName(payment)}).`
      : `${account.domain} is set up with the cPanel user ${account.username}, paid until ${date(account.paidUntil)}.`),
    account.status === 'ACTIVE' ? null
      : message('warn', null, 'The account is not active right now; your profile says why.'),
    isRenewal(payment) || !account.firstSteps ? null : firstStepsOf(account.firstSteps),
    h('div', {class: 'row'},
      h('a', {class: 'button', href: '/profile.html', 'data-test': 'go-profile'}, 'Go to my hosting')));
}

// First steps load only here, keeping the page's first load light.
function firstStepsOf(steps) {
  const slot = h('div');
  import('./firstSteps.js').then((m) => slot.replaceWith(m.firstSteps(steps)), () => slot.remove());
  return slot;
}

function closedView(payment) {
  stopPolling();
  const expired = payment.state === 'EXPIRED';
  return [
    h('h2', {id: 'payment-title', tabindex: '-1'}, expired ? 'This payment expired' : 'This payment was cancelled'),
    h('div', {'data-test': 'payment-failure'}, message('warn', expired ? 'Payment failure — the invoice expired' : 'Payment failure — the invoice was cancelled',
      `${expired ? 'The invoice was not paid in time' : 'The payment provider cancelled the invoice'}, so nothing was charged. ` +
      'If you paid anyway, the payment will still be recognised and your account set up; otherwise start a new order.',
      h('button', {type: 'button', onclick: startOver}, 'Start a new order'))),
  ];
}

/** Gives up the open purchase (the invoice is cancelled and the domain is
 * free again), then starts over; a payment that arrived meanwhile is shown. */
async function cancelPayment(button) {
  const done = busy(button, 'Cancelling…');
  try {
    await api('POST', '/api/cancel-invoice', {paymentId: current.payment.id});
    startOver();
  } catch (error) {
    done();
    if (error.code === 'already_paid') {
      await poll();
      return;
    }
    button.after(message('error', 'The order could not be cancelled', error.code === 'payment_in_progress'
      ? `${error.message} If the payment goes through, your account is set up; otherwise try again in a minute.`
      : `${error.message} Nothing was charged; try again in a minute.`));
  }
}

function startOver() {
  stopPolling();
  if (invoice) invoice.stopInvoice();
  current = null;
  location.assign('/products.html');
}

// Live status: ask the server while the page is visible, stop when done.

function schedulePoll(ms) {
  clearTimeout(pollTimer);
  if (!current || document.hidden || finished()) return;
  const failed = current.payment.fulfilment && current.payment.fulfilment.status === 'FAILED';
  pollTimer = setTimeout(poll, ms || (failed ? 5000 : 2000));
}

function finished() {
  return !current || ['EXPIRED', 'CANCELLED'].includes(current.payment.state) || succeeded();
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

async function poll() {
  if (!current) return;
  try {
    const answer = await api('GET', `/api/check-invoice?paymentId=${encodeURIComponent(current.payment.id)}`);
    invoice.noteServerTime(answer);
    current = invoice.newer(current, answer);
    pollFailures = 0;
    byId('poll-warning')?.remove();
    renderPayment();
    schedulePoll();
  } catch (error) {
    pollFailures += 1;
    if (!byId('poll-warning')) {
      byId('payment').append(h('div', {id: 'poll-warning'}, message('warn', 'Checking the payment status is not working right now',
        `${error.message} We keep trying. If you have paid, your payment is not lost.`)));
    }
    schedulePoll(Math.min(30000, 2000 * 2 ** Math.min(pollFailures, 4)));
  }
}

function onVisibility() {
  if (document.hidden) stopPolling();
  else if (current && !finished()) {
    // Timers slept while hidden: judge the quote by the clock at once.
    rerender();
    poll();
  }
}

start();
