// The sign-in page (`/`): restore a session, sign in, register.

import {api} from './api.js';
import {checkAlbyLogin, checkSignerLogin, handleLogin, handleLogout, LoginError, register} from './nostrAuth.js';
import {fetchProfile, parseMetadata} from './nostr.js';
import {startPage, startProfileSync} from './page.js';
import {busy, byId, fill, h, identity, message, money, query, show} from './ui.js';

const views = ['checking', 'signed-out', 'register', 'signed-in'];

function view(name) {
  for (const id of views) show(id, id === name);
}

async function start() {
  startPage();
  teaser();
  byId('login').addEventListener('click', () => login());
  byId('retry-signer').addEventListener('click', () => login());
  byId('remote-login').addEventListener('click', remote);
  byId('login-cancel').addEventListener('click', () => { if (signingIn) signingIn.abort(); });
  byId('register-form').addEventListener('submit', createAccount);
  byId('register-cancel').addEventListener('click', () => handleLogout(false));
  byId('logout').addEventListener('click', () => handleLogout(false));
  albyNote();
  // Extensions may inject after the page has loaded.
  setTimeout(albyNote, 1200);

  let session = null;
  try {
    session = await checkSignerLogin();
  } catch (error) {
    view('signed-out');
    fill('login-error', message('error', 'Could not reach the server', error.message));
    return;
  }
  if (!session) {
    view('signed-out');
    if (query('signedOut')) fill('login-status', 'You are signed out.');
    return;
  }
  if (session.registered) await showSignedIn(session);
  else showRegister(session);
}

function albyNote() {
  const note = checkAlbyLogin();
  byId('alby-note').textContent = note || '';
  show('alby-note', Boolean(note));
}

async function teaser() {
  try {
    const {plans} = await api('GET', '/api/plans');
    if (!plans.length) return;
    // The server lists plans cheapest first within each currency: the first
    // of each currency is its cheapest. Prices in different currencies are
    // never compared.
    const cheapest = [...new Map(plans.slice().reverse().map((p) => [p.currency, p])).values()].reverse();
    const from = cheapest.map((p) => `${money(p.price, p.currency)} ${p.billingCycle === 'yearly' ? 'a year' : 'a month'}`);
    fill('plans-teaser', `Plans from ${from.join(' or ')}. `, h('a', {href: '/products.html'}, 'See the plans'));
  } catch { /* the teaser is optional */ }
}

/** The sign-in under way, which "Cancel" stops at any moment. */
let signingIn = null;

// A remote signer (NIP-46): its code loads on this click only.
async function remote() {
  const {openRemote} = await import('./remoteLogin.js');
  openRemote(byId('remote'), login);
}

/** Signs in with the browser's signer, or the connected remote `signer`. */
async function login(signer) {
  const button = byId('login');
  fill('login-error');
  show('no-signer', false);
  const done = busy(button, 'Signing in…');
  signingIn = new AbortController();
  show('login-cancel', true);
  try {
    const onStep = (text) => { byId('login-status').textContent = text; };
    const answer = await handleLogin({onStep, signal: signingIn.signal, signer});
    byId('login-status').textContent = 'Signed in.';
    if (answer.registered) {
      const accounts = (answer.customer && answer.customer.cpanelAccountIds) || [];
      location.assign(accounts.length && !query('plan') ? '/profile.html' : productsPage());
      return;
    }
    showRegister(answer);
  } catch (error) {
    loginFailed(error, signer);
  } finally {
    signingIn = null;
    show('login-cancel', false);
    done();
  }
}

function loginFailed(error, signer) {
  byId('login-status').textContent = '';
  if (error instanceof LoginError && error.reason === 'cancelled') {
    byId('login-status').textContent = 'Sign-in cancelled.';
    byId('login').focus();
  } else if (error instanceof LoginError && error.reason === 'no_signer') {
    show('no-signer', true);
    byId('no-signer').focus();
  } else {
    const title = error instanceof LoginError ? error.title : 'Sign-in failed';
    fill('login-error', h('div', {'data-test': 'login-error', 'data-reason': error.reason || 'other'},
      message('error', title, error.message,
        h('button', {type: 'button', onclick: () => login(signer), 'data-test': 'try-again'}, 'Try again'))));
  }
}

/** Signed in with a key that has no customer yet: offer to register. */
function showRegister(session) {
  view('register');
  fill('register-who', identity(null, session.npub));
  // Show their name and picture from relays while they decide.
  fetchProfile(session.publicKey)
    .then(({event}) => {
      const metadata = parseMetadata(event);
      if (metadata) fill('register-who', identity(metadata, session.npub));
    })
    .catch(() => {});
  byId('email').focus();
}

/** The products page, with the plan a listing link chose (`/?plan=<id>`). */
function productsPage() {
  const plan = query('plan');
  return plan ? `/products.html?plan=${encodeURIComponent(plan)}` : '/products.html';
}

async function createAccount(event) {
  event.preventDefault();
  const email = byId('email').value.trim();
  fill('register-error');
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    byId('email').setAttribute('aria-invalid', 'true');
    fill('register-error', h('div', {class: 'field-error', role: 'alert'}, 'That does not look like an email address. Correct it, or leave the field empty.'));
    return;
  }
  byId('email').removeAttribute('aria-invalid');
  const done = busy(byId('register-button'), 'Creating your account…');
  try {
    await register(email || null);
    location.assign(productsPage());
  } catch (error) {
    done();
    if (error.code === 'already_registered') {
      location.assign(productsPage());
      return;
    }
    fill('register-error', message('error', 'Your account was not created', error.message));
  }
}

async function showSignedIn(session) {
  view('signed-in');
  fill('signed-in-who', identity(null, session.npub));
  if (session.status === 'DELETED') {
    fill('signed-in-note', message('warn', 'Your account is deleted',
      'You can still recover it within the grace period from your profile page.'));
  } else if (session.status === 'SUSPENDED') {
    fill('signed-in-note', message('warn', 'Your account is suspended',
      'The operator suspended it for review. Contact them to resolve it.'));
  }
  try {
    const profile = await api('GET', '/api/profile');
    fill('signed-in-who', identity(profile.metadata, profile.npub));
    startProfileSync(profile, (updated) => fill('signed-in-who', identity(updated.metadata, updated.npub)));
  } catch { /* the npub alone will do */ }
}

start();
