// The profile page: cPanel accounts (status, usage, Open cPanel, Renew),
// payments, Nostr profile, email, sign out, delete and recover.

import {api} from './api.js';
import {syncProfile, verifyNip05} from './nostr.js';
import {contactParts, renderWho, signOut, startCustomerPage} from './page.js';
import {firstSteps} from './firstSteps.js';
import {busy, byId, copyButton, date, fill, h, identity, message, money, show} from './ui.js';

let profile = null;
let plans = [];
/** How to reach the operator (links), for suspended accounts. */
let contact = [];

const STATUS = {
  ACTIVE: ['ok', 'Active', 'Access available.'],
  EXPIRED: ['warn', 'Expired', 'The paid period is over: access is denied until you pay the renewal.'],
  SUSPENDED: ['bad', 'Suspended', 'Suspended by the operator: access is denied until they review it.'],
  PROVISIONING: ['info', 'Setting up', 'Your payment arrived and the account is being created.'],
  TERMINATED: ['plain', 'Removed', 'Removed after its paid period had long ended. Buy a new plan to host this domain again.'],
};

async function start() {
  const started = await startCustomerPage({onProfileUpdate: (updated) => { profile = updated; renderNostr(); }});
  plans = started.plans;
  if (started.session.state !== 'ready') return;
  contact = contactParts(await started.health);
  show('content', true);
  profile = started.session.profile;
  render();
  byId('email').value = profile.customer.email || '';
  wireForms();
  // The settings load when opened: the page's first load stays small.
  byId('notices-details').addEventListener('toggle', async (e) => {
    if (!e.currentTarget.open) return;
    const notices = await import('./notices.js');
    notices.open(() => profile, (updated) => { profile = updated; render(); });
  });
  // Accounts being set up change on their own: look again now and then.
  setInterval(() => {
    if (!document.hidden && profile.cpanelAccounts.some((a) => a.status === 'PROVISIONING')) reload();
  }, 5000);
}

async function reload() {
  try {
    const next = await api('GET', '/api/profile');
    if (JSON.stringify(next) === JSON.stringify(profile)) return;
    profile = next;
    render();
  } catch { /* keep what is shown */ }
}

function render() {
  renderDeleted();
  renderAccounts();
  renderPayments();
  renderNostr();
  renderNotices(profile);
  byId('delete-hint').textContent = `Your npub: ${profile.npub} (capitals and spaces around it do not matter).`;
  show('delete-section', profile.customer.status === 'ACTIVE');
}

/** One line on what reaches the customer; a warning when nothing does. */
function renderNotices(p) {
  const n = p.notices;
  if (!n) return;
  const ways = [n.nostrInbox === 'found' ? 'private Nostr messages' : null,
    n.email && n.email.confirmed ? `email to ${n.email.address}` : null].filter(Boolean);
  fill('notices-reach', n.reachable
    ? h('p', {class: 'small'}, `Notices reach you by ${ways.join(' and ')}.`)
    : h('div', {class: 'field-error', role: 'alert', 'data-test': 'unreachable'},
      'Nothing can reach you now: we cannot warn you before your hosting expires. Open “How we reach you”.'));
  if (byId('notices-details').open) import('./notices.js').then((m) => m.render(p));
}

function deleted() {
  return profile.customer.status === 'DELETED';
}

/** Open cPanel and Renew need a customer in good standing (not deleted, not suspended). */
function usable() {
  return profile.customer.status === 'ACTIVE';
}

function renderDeleted(purgeAfter) {
  if (profile.customer.status === 'SUSPENDED') {
    fill('deleted', message('warn', 'Your account is suspended',
      'The operator suspended it for review: your hosting cannot be opened or renewed until then. Contact the operator to resolve it.'));
    return;
  }
  if (!deleted()) {
    fill('deleted');
    return;
  }
  const button = h('button', {type: 'button', 'data-test': 'recover'}, 'Recover my account');
  const result = h('div');
  button.addEventListener('click', async () => {
    const done = busy(button, 'Recovering…');
    try {
      await api('POST', '/api/recover-user');
      await reload();
    } catch (error) {
      fill(result, message('error', error.code === 'grace_period_over' ? 'Too late to recover' : 'Your account was not recovered', error.message));
    } finally {
      done();
    }
  });
  const since = profile.customer.deletedAt ? ` on ${date(profile.customer.deletedAt)}` : '';
  const until = purgeAfter ? ` Everything will be erased after ${date(purgeAfter)}.` : ' Everything will be erased when the grace period ends.';
  fill('deleted', h('div', {'data-test': 'deleted'}, message('warn', `You deleted your account${since}`,
    `Your hosting accounts are suspended.${until} Until then you can recover it, with your accounts and payments.`, button), result));
}

/** A plan's name, on sale or not (`profile.plans`: null when unreadable). */
function planName(id) {
  return (plans.find((p) => p.id === id) || (profile.plans || {})[id] || {}).name || 'Plan details unavailable';
}

/** A note for records the server has but cannot read right now, or null. */
function unavailableNote(count, one, many) {
  if (!count) return null;
  return h('div', {'data-test': 'unavailable'}, message('warn', 'Temporarily unavailable',
    `${count === 1 ? one : `${count} ${many}`} cannot be shown right now. Nothing is lost: the operator has been told and is fixing it.`));
}

function renderAccounts() {
  const accounts = profile.cpanelAccounts || [];
  const hidden = (profile.unavailable || {}).cpanelAccounts || 0;
  const note = unavailableNote(hidden, 'One of your hosting accounts', 'of your hosting accounts');
  if (!accounts.length && !hidden) {
    fill('accounts', h('div', {class: 'card', 'data-test': 'no-accounts'},
      h('p', {}, 'You have no hosting account yet.'),
      h('a', {class: 'button', href: '/products.html'}, 'Choose a plan')));
    return;
  }
  fill('accounts', [note, ...accounts.map(accountCard)].filter(Boolean));
  // Plans with several accounts: grouping and "Add a site", loaded only for them.
  const plans = profile.plans || {};
  if (accounts.some((a) => a.groupOf || (plans[a.planId] || {}).accounts > 1)) import('./addSite.js').then((m) => m.groupAccounts(profile, usable()));
}

/**
 * An account's badge and explanation. While the customer is deleted or
 * suspended, their hosting is held whatever each account's own status: the
 * banner above says why, so the card says only that it is held.
 */
function accountState(account) {
  if (!usable() && (account.status === 'ACTIVE' || account.status === 'EXPIRED')) {
    return ['warn', 'Suspended', ''];
  }
  return STATUS[account.status] || ['plain', account.status, ''];
}

function accountCard(account) {
  const [tone, label, explanation] = accountState(account);
  const errorBox = h('div', {id: `acct-${account.id}-error`});
  const actions = [];
  if (usable() && account.status === 'ACTIVE') {
    actions.push(h('button', {type: 'button', 'data-test': 'open-cpanel', onclick: (e) => openCpanel(account, e.currentTarget, errorBox)}, 'Open cPanel'));
  }
  if (usable() && (account.status === 'ACTIVE' || account.status === 'EXPIRED')) {
    actions.push(h('a', {class: `button ${account.status === 'ACTIVE' ? 'secondary' : ''}`, href: `/products.html?renew=${encodeURIComponent(account.id)}`, 'data-test': 'renew'}, 'Renew'));
  }
  // Plan changes are their own module, loaded when needed.
  const change = h('div');
  const load = (name, arg) => import('./planChange.js').then((m) => m[name](account, arg, change, reload))
    .catch((e) => fill(change, message('error', null, e.message)));
  if (account.scheduledPlan) load('scheduled', planName(account.scheduledPlan.planId));
  else if (usable() && account.status === 'ACTIVE') {
    actions.push(h('button', {type: 'button', class: 'secondary', 'data-test': 'change-plan', onclick: () => load('offer', plans)}, 'Change plan'));
  }
  const soon = account.status === 'ACTIVE' && account.paidUntil && new Date(account.paidUntil).getTime() - Date.now() < 7 * 86400e3;
  return h('article', {class: 'card', 'data-test': 'account', 'data-domain': account.domain, 'data-status': account.status, 'aria-labelledby': `acct-${account.id}`},
    h('div', {class: 'account-head'},
      h('div', {},
        h('h3', {class: 'domain', id: `acct-${account.id}`}, account.domain),
        h('div', {class: 'small muted', 'data-test': 'plan-of'}, planName(account.planId))),
      h('span', {class: `badge ${tone}`, 'data-test': 'status'}, label)),
    explanation ? h('p', {class: 'small'}, explanation) : null,
    account.status === 'SUSPENDED' ? suspensionNote(account) : null,
    soon ? message('warn', null, `Paid until ${date(account.paidUntil)}: renew before then to keep it running.`) : null,
    h('dl', {class: 'facts'},
      h('dt', {}, 'Paid until'), h('dd', {}, date(account.paidUntil)),
      h('dt', {}, 'cPanel user'), h('dd', {}, h('code', {}, account.username || '—')),
      h('dt', {}, 'Since'), h('dd', {}, date(account.createdAt))),
    usage(account.resourceUsage),
    usable() ? firstSteps(account.firstSteps) : null,
    change,
    h('div', {class: 'row account-actions', hidden: !actions.length}, actions),
    errorBox);
}

/** The operator's own words about a suspension, and how to reach them. */
function suspensionNote(account) {
  return h('div', {'data-test': 'suspension'},
    account.publicMessage ? message('info', 'From the operator', account.publicMessage) : null,
    contact.length ? h('p', {class: 'small'}, 'To resolve it, contact the operator: ', contact) : null);
}

function usage(u) {
  if (!u) return h('p', {class: 'small muted'}, 'Disk and bandwidth use have not been read yet.');
  return h('div', {},
    bar('Disk', u.diskUsedMb, u.diskLimitMb),
    bar('Bandwidth this month', u.bandwidthUsedMb, u.bandwidthLimitMb),
    h('div', {class: 'small muted'}, `Read ${date(u.readAt, true)}`));
}

function size(mb) {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb} MB`;
}

function bar(label, used, limit) {
  const percent = limit ? Math.min(100, Math.round((used / limit) * 100)) : null;
  const fillEl = h('div');
  if (percent !== null) fillEl.style.width = `${percent}%`;
  const meter = h('div', {class: `meter${percent >= 100 ? ' full' : percent >= 80 ? ' high' : ''}`, role: 'progressbar',
    'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': limit ? String(limit) : null, 'aria-valuenow': String(used),
    'aria-valuetext': limit ? `${size(used)} of ${size(limit)}` : `${size(used)}, no limit`}, fillEl);
  if (percent === null) meter.hidden = true;
  return h('div', {class: 'usage'},
    h('div', {class: 'label'}, h('span', {}, label), h('span', {}, limit ? `${size(used)} of ${size(limit)} (${percent}%)` : `${size(used)} (no limit)`)),
    meter);
}

// Titles for the refusals of POST /api/cpanel-login; the text is the
// server's sentence (it says, for example, whether the account or the
// customer is suspended), except where ours says more.
const CPANEL_ERRORS = {
  account_expired: ['This account has expired', 'Access is denied until the renewal is paid. Renew it to open cPanel again.'],
  account_suspended: ['This account is suspended'],
  account_not_ready: ['This account is still being set up'],
  account_terminated: ['This account was removed'],
  whm_error: ['The hosting server did not answer', 'cPanel could not be opened right now. Please try again in a minute.'],
};

/** Single sign-on: a one-time login URL from the server, opened in a new tab. */
async function openCpanel(account, button, errorBox) {
  fill(errorBox);
  // Open the tab now, within the click, so that popup blockers allow it.
  const tab = window.open('', '_blank');
  if (tab) {
    try { tab.document.title = 'Opening cPanel…'; tab.document.body.textContent = 'Opening cPanel…'; } catch { /* not ours to write */ }
  }
  const done = busy(button, 'Opening…');
  try {
    const {url} = await api('POST', '/api/cpanel-login', {accountId: account.id});
    const target = new URL(url, location.href);
    if (!['https:', 'http:'].includes(target.protocol)) throw new Error('The server sent a login address this page will not open.');
    done();
    if (tab && !tab.closed) {
      tab.opener = null;
      tab.location.replace(target.href);
    } else {
      location.assign(target.href);
    }
  } catch (error) {
    done();
    if (tab) tab.close();
    const [title, text] = CPANEL_ERRORS[error.code] || ['cPanel could not be opened'];
    // The account changed since the page loaded: show its state now.
    if (CPANEL_ERRORS[error.code] && error.code !== 'whm_error') await reload();
    fill(byId(errorBox.id) || errorBox, message('error', title, text || error.message));
  }
}

function paymentStatus(p) {
  const f = p.fulfilment || {};
  if (p.state === 'PENDING') return ['info', 'Waiting for payment'];
  if (p.state === 'EXPIRED') return ['plain', 'Expired, not paid'];
  if (p.state === 'CANCELLED') return ['plain', 'Cancelled'];
  if (f.status === 'DONE') return ['ok', 'Paid'];
  if (f.status === 'FAILED') return ['warn', 'Paid — setup failing, retrying'];
  return ['info', 'Paid — setting up'];
}

function renderPayments() {
  const payments = (profile.payments || []).slice().sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  const hidden = (profile.unavailable || {}).payments || 0;
  const note = unavailableNote(hidden, 'One of your payments', 'of your payments');
  if (!payments.length) {
    fill('payments', note || h('p', {class: 'muted'}, 'No payments yet.'));
    return;
  }
  const domains = new Map((profile.cpanelAccounts || []).map((a) => [a.id, a.domain]));
  fill('payments', note, h('table', {class: 'stacked'},
    h('thead', {}, h('tr', {}, ['Date', 'For', 'Amount', 'Status'].map((t) => h('th', {scope: 'col'}, t)),
      h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Action')))),
    h('tbody', {}, payments.map((p) => {
      const [tone, label] = paymentStatus(p);
      const failed = p.fulfilment && p.fulfilment.status === 'FAILED'
        ? 'Setting up the account failed so far; it is being retried or looked at by the operator.' : null;
      return h('tr', {'data-test': 'payment-row'},
        h('td', {'data-label': 'Date'}, h('span', {}, date(p.createdAt, true))),
        h('td', {'data-label': 'For'}, h('span', {}, `${planName(p.planId)} · ${p.domain || `${p.kind ? p.kind === 'upgrade' ? 'upgrade' : 'new cycle' : 'renewal'} of ${domains.get(p.accountId) || 'an account'}`}`)),
        h('td', {'data-label': 'Amount'}, h('span', {}, money(p.amount, p.currency), p.periods > 1 ? ` for ${p.periods} periods` : '')),
        h('td', {'data-label': 'Status'}, h('span', {}, h('span', {class: `badge ${tone}`, title: failed || null}, label),
          p.sandbox ? h('span', {class: 'small muted'}, ' sandbox') : null)),
        p.state === 'PENDING' && !deleted()
          ? h('td', {'data-label': ''}, h('a', {href: `/products.html?payment=${encodeURIComponent(p.id)}`}, 'Continue paying'))
          : p.receipt
            ? h('td', {'data-label': ''}, h('a', {href: `/receipt.html?id=${encodeURIComponent(p.id)}`, 'data-test': 'receipt-link'}, `Receipt ${p.receipt.label}`))
            : h('td', {class: 'empty'}));
    }))));
}

function renderNostr() {
  const m = profile.metadata;
  const refresh = h('button', {type: 'button', class: 'secondary small'}, 'Refresh from relays');
  const result = h('div', {class: 'small', role: 'status'});
  refresh.addEventListener('click', async () => {
    const done = busy(refresh, 'Asking relays…');
    try {
      const updated = await syncProfile(profile.customer.publicKey, profile.metadata);
      done();
      if (updated) {
        profile = updated;
        renderWho(profile);
        renderNostr();
      } else {
        result.textContent = 'No newer profile found on your relays.';
      }
    } catch (error) {
      done();
      result.textContent = error.message;
    }
  });
  fill('nostr-profile',
    identity(m, profile.npub, 'large'),
    m && m.name && m.displayName && m.name !== m.displayName ? h('p', {class: 'small muted'}, '@', m.name) : null,
    verifyNip05(m),
    m && m.about ? h('p', {class: 'small prose', 'data-test': 'about'}, m.about) : null,
    m ? null : h('p', {class: 'small muted'}, 'No Nostr profile found yet. Your name and picture come from your profile on Nostr relays.'),
    h('div', {class: 'row'}, refresh), result);
}

function wireForms() {
  const email = byId('email');
  const result = byId('email-result');
  const save = async (value, button) => {
    fill(result);
    if (value && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
      email.setAttribute('aria-invalid', 'true');
      fill(result, h('div', {class: 'field-error'}, 'That does not look like an email address.'));
      return;
    }
    email.removeAttribute('aria-invalid');
    const done = busy(button, 'Saving…');
    try {
      profile = await api('PUT', '/api/profile', {email: value || null});
      email.value = profile.customer.email || '';
      renderNotices(profile);
      fill(result, h('div', {class: 'field-ok'}, value ? 'Saved.' : 'Removed.'));
    } catch (error) {
      fill(result, h('div', {class: 'field-error', role: 'alert'}, error.message));
    } finally {
      done();
    }
  };
  byId('email-form').addEventListener('submit', (e) => { e.preventDefault(); save(email.value.trim(), byId('email-save')); });
  byId('email-remove').addEventListener('click', (e) => save(null, e.currentTarget));
  byId('logout').addEventListener('click', () => signOut(false));
  byId('logout-everywhere').addEventListener('click', async (e) => {
    fill('logout-result');
    const done = busy(e.currentTarget, 'Signing out everywhere…');
    try {
      await signOut(true);
    } catch (error) {
      done();
      fill('logout-result', message('error', 'You were not signed out everywhere',
        `${error.message} Other browsers and devices may still be signed in. Sign in here again if asked, then try once more.`,
        h('a', {class: 'button secondary', href: '/'}, 'Go to sign-in')));
    }
  });

  const confirm = byId('delete-confirm');
  const button = byId('delete-button');
  confirm.addEventListener('input', () => { button.disabled = confirm.value.trim().toLowerCase() !== profile.npub; });
  byId('delete-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    fill('delete-result');
    const done = busy(button, 'Deleting…');
    try {
      const answer = await api('POST', '/api/delete-user', {confirm: confirm.value.trim()});
      confirm.value = '';
      await reload();
      renderDeleted(answer.purgeAfter);
      byId('deleted').scrollIntoView({block: 'start'});
    } catch (error) {
      fill('delete-result', message('error', 'Your account was not deleted', error.message));
    } finally {
      done();
      button.disabled = confirm.value.trim().toLowerCase() !== profile.npub;
    }
  });
}

start();
