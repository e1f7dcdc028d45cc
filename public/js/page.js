// What every page shares: the sandbox banner, the current nav link, the
// signed-in person in the header (with sign out), and the background
// refresh of their Nostr profile from relays.
// Pages start here: `startPage()` on every page, `startCustomerPage()` on
// those for a signed-in customer.

import {api, ApiError} from './api.js';
import {avatar, byId, displayName, fill, h, shortNpub} from './ui.js';

/** Every page's start: marks the nav and shows the sandbox banner when parts
 * run as a sandbox. Resolves to `GET /api/health`'s answer, or null. */
export async function startPage() {
  for (const link of document.querySelectorAll('.site-nav a')) {
    if (link.getAttribute('href') === location.pathname) link.setAttribute('aria-current', 'page');
  }
  try {
    const health = await api('GET', '/api/health');
    const footer = byId('contact');
    if (footer && contactParts(health).length) fill(footer, ' · Contact: ', contactParts(health));
    const operator = health.operator && health.operator.npub;
    if (operator && byId('operator')) fill('operator', ' · On Nostr: ', npubLink(operator));
    const sandbox = health.sandbox || {};
    if (sandbox.payments || sandbox.whm) {
      const parts = [];
      if (sandbox.payments) parts.push('payments are simulated and no real money moves');
      if (sandbox.whm) parts.push('cPanel accounts are not real');
      fill('sandbox-banner', h('strong', {}, 'Sandbox'), ` — this is a test setup: ${parts.join('; ')}.`);
      byId('sandbox-banner').hidden = false;
    }
    return health;
  } catch {
    return null;
  }
}

/** How to reach the operator, from `/api/health`: links, or [] when none is set. */
export function contactParts(health) {
  const contact = (health && health.contact) || {};
  const parts = [];
  if (contact.npub) parts.push(npubLink(contact.npub));
  if (contact.email) parts.push(h('a', {href: `mailto:${contact.email}`}, contact.email));
  return parts.flatMap((part, i) => (i ? [' or ', part] : [part]));
}

/** A `nostr:` link to an npub, shortened. */
function npubLink(npub) {
  return h('a', {href: `nostr:${npub}`, class: 'npub'}, shortNpub(npub));
}

/** `startPage()`, then the session and the plans at once, the person in the
 * header, `#gate` for who cannot use the page yet, and the profile refresh
 * (`onProfileUpdate` gets a newer profile). Resolves to `{session, plans,
 * plansError, health}`; `health` is `startPage()`'s promise. */
export async function startCustomerPage({onProfileUpdate} = {}) {
  const health = startPage();
  const [session, plansAnswer] = await Promise.all([loadProfile(), api('GET', '/api/plans').catch((e) => e)]);
  const plansError = plansAnswer instanceof Error ? plansAnswer : null;
  const plans = plansError ? [] : plansAnswer.plans || [];
  renderWho(session.profile || null);
  if (session.state === 'ready') {
    fill('gate');
    startProfileSync(session.profile, onProfileUpdate);
  } else {
    fill('gate', gate(session.state, session.error));
  }
  return {session, plans, plansError, health};
}

/** `{state: 'signed_out' | 'unregistered' | 'error' | 'ready', profile, error}`. */
async function loadProfile() {
  try {
    return {state: 'ready', profile: await api('GET', '/api/profile')};
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return {state: 'signed_out', error};
    if (error instanceof ApiError && error.code === 'not_registered') return {state: 'unregistered', error};
    return {state: 'error', error};
  }
}

/** Signs out (see nostrAuth.js), loading the sign-in code only when asked. */
export async function signOut(everywhere = false) {
  const {handleLogout} = await import('./nostrAuth.js');
  return handleLogout(everywhere);
}

/** The signed-in person in the header, with a sign-out button. */
export function renderWho(profile) {
  const el = byId('who');
  if (!el) return;
  if (!profile) {
    // The page itself says how to sign in.
    fill(el);
    return;
  }
  const name = displayName(profile.metadata);
  fill(el, h('div', {class: 'who'},
    avatar(profile.metadata, profile.npub, 'small'),
    h('span', {class: 'name', 'data-test': 'header-name', title: profile.npub}, name || shortNpub(profile.npub, 9, 4)),
    h('button', {type: 'button', class: 'secondary small', 'data-test': 'sign-out', onclick: () => signOut(false)}, 'Sign out')));
}

const SYNC_KEY = 'hostr.profileSyncedAt';
const SYNC_EVERY_MS = 10 * 60 * 1000;

/** Whether this tab last read the profile from relays 10 minutes ago or
 * more (then it notes that it does so now); always, with storage off. */
function syncDue() {
  try {
    if (Date.now() - Number(sessionStorage.getItem(SYNC_KEY) || 0) < SYNC_EVERY_MS) return false;
    sessionStorage.setItem(SYNC_KEY, String(Date.now()));
  } catch { /* storage off: sync anyway */ }
  return true;
}

/** Refreshes the profile from relays in the background, at most every 10
 * minutes per tab, loading the relay code (`nostr.js`) only then; calls
 * `onUpdate` with the server's new profile when it changed. */
export function startProfileSync(profile, onUpdate) {
  if (!profile || !profile.customer || profile.customer.status === 'DELETED' || !syncDue()) return;
  import('./nostr.js')
    .then(({syncProfile}) => syncProfile(profile.customer.publicKey, profile.metadata))
    .then((updated) => {
      if (updated) {
        renderWho(updated);
        if (onUpdate) onUpdate(updated);
      }
    })
    .catch(() => { /* relays are best effort; the server's copy stays */ });
}

/** The message for pages that need a signed-in, registered customer. */
function gate(state, error) {
  if (state === 'signed_out') {
    return h('div', {class: 'card', 'data-test': 'signed-out'},
      h('h2', {}, 'You are signed out'),
      h('p', {}, 'Sign in with your Nostr signer to see your hosting and buy a plan.'),
      h('a', {class: 'button', href: '/'}, 'Sign in'));
  }
  if (state === 'unregistered') {
    return h('div', {class: 'card'},
      h('h2', {}, 'Create your account first'),
      h('p', {}, 'You are signed in, but this key has no hosting account yet. It takes one click.'),
      h('a', {class: 'button', href: '/'}, 'Create my account'));
  }
  return h('div', {class: 'msg error', role: 'alert'},
    h('strong', {}, 'This page could not load your account'),
    h('p', {}, error ? error.message : 'Please reload the page.'),
    h('div', {class: 'row actions'}, h('button', {type: 'button', onclick: () => location.reload()}, 'Reload')));
}
