// Signing in and out with a Nostr key (NIP-07 signer + NIP-98 event).
//
// handleLogin: challenge from the server → the signer signs a short-lived
// kind-27235 event naming this site and the challenge, with a readable
// content line → the server verifies it and sets an HttpOnly session cookie.

import {api, ApiError} from './api.js';
import {getPublicKey, hasWebLN, isSignerAvailable, signEvent, SignerError, signerTimeoutMs, throwIfCancelled, waitForSigner} from './signer.js';

/** Why a sign-in failed, with what to tell the person. */
export class LoginError extends Error {
  constructor(reason, title, message) {
    super(message);
    this.reason = reason;
    this.title = title;
  }
}

const SIGNATURE = 'Unauthorized user — signature failure';

/** Restores an existing session on load: `{publicKey, npub, registered,
 * status}`, or null when nobody is signed in. */
export async function checkSignerLogin() {
  try {
    return await api('GET', '/api/check');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Signs in with the browser's signer, or a remote `signer` (NIP-46,
 * remoteLogin.js). Resolves to the server's answer
 * (`{publicKey, npub, registered, customer}`); throws a LoginError. A
 * signer that does not answer within `signerTimeoutMs()` is given up on
 * ('timeout'); aborting `signal` gives up at once ('cancelled'). */
export async function handleLogin({onStep = () => {}, waitMs = 3000, signal = null, signer = null} = {}) {
  try {
    return await login(onStep, waitMs, signal, signer || {getPublicKey, signEvent});
  } catch (error) {
    if (error instanceof SignerError) throw fromSigner(error);
    throw error;
  }
}

async function login(onStep, waitMs, signal, signer) {
  if (signer.getPublicKey === getPublicKey && !isSignerAvailable()) {
    onStep('Looking for your Nostr signer…');
    if (!(await waitForSigner(waitMs, signal))) {
      throw new LoginError('no_signer', 'No Nostr signer found', 'This browser has no Nostr signer extension, or it is switched off.');
    }
  }
  onStep('Asking your signer for your public key…');
  const publicKey = await signer.getPublicKey(signal);
  onStep('Getting a sign-in challenge…');
  const challenge = await api('GET', '/api/challenge').catch((error) => { throw fromApi(error); });
  throwIfCancelled(signal);
  const event = {
    kind: 27235,
    created_at: Math.floor(Date.now() / 1000),
    tags: [['u', challenge.url], ['method', 'POST'], ['challenge', challenge.challenge]],
    content: challenge.content || `Sign in to ${location.host}`,
    pubkey: publicKey,
  };
  onStep('Please approve the sign-in request in your signer…');
  const signed = await signer.signEvent(event, signal);
  if (signed.pubkey && signed.pubkey !== publicKey) {
    throw new LoginError('bad_signature', SIGNATURE, 'Your signer signed with a different key than the one it shared. Check which account is selected in your signer and try again.');
  }
  throwIfCancelled(signal);
  onStep('Checking the signature…');
  try {
    return await api('POST', '/api/verify', {event: signed});
  } catch (error) {
    throw fromApi(error);
  }
}

/** Creates the customer for the signed-in key. */
export async function register(email) {
  const body = email ? {email} : {};
  return api('POST', '/api/new-user', body);
}

/** Signs out (everywhere: every browser and device) and goes home. A
 * failed "everywhere" throws (the other sessions may still be open), so
 * the page can say so; a plain sign-out goes home anyway: the server clears
 * the cookie even when it refuses, and the home page shows what is true. */
export async function handleLogout(everywhere = false) {
  try {
    await api('POST', '/api/logout', everywhere ? {everywhere: true} : undefined);
  } catch (error) {
    if (everywhere) throw error;
  } finally {
    try { sessionStorage.clear(); } catch { /* private mode */ }
  }
  location.assign('/?signedOut=1');
}

/** Alby provides both a Nostr signer and a WebLN wallet: sign-in and
 * one-click payment. Returns a sentence to show, or null. */
export function checkAlbyLogin() {
  const alby = typeof window.alby === 'object' && window.alby !== null;
  if (isSignerAvailable() && hasWebLN()) {
    return alby
      ? 'Alby detected: you can sign in with it and pay invoices with one click.'
      : 'Your extension signs in with Nostr and can pay Lightning invoices with one click (WebLN).';
  }
  if (alby) return 'Alby detected. If sign-in does not start, unlock Alby and try again.';
  return null;
}

function fromSigner(error) {
  if (error instanceof SignerError && error.kind === 'missing') {
    return new LoginError('no_signer', 'No Nostr signer found', error.message);
  }
  if (error instanceof SignerError && error.kind === 'cancelled') {
    return new LoginError('cancelled', 'Sign-in cancelled', 'You cancelled the sign-in; nothing was shared.');
  }
  if (error instanceof SignerError && error.kind === 'timeout') {
    const seconds = Math.max(1, Math.round(signerTimeoutMs() / 1000));
    return new LoginError('timeout', 'Your signer did not answer',
      `Your signer did not answer within ${seconds} second${seconds === 1 ? '' : 's'}, so you are not signed in. ` +
      'It may be locked, or its window may be hidden behind this one: open your signer, then try again.');
  }
  const detail = error instanceof SignerError ? error.detail : '';
  const what = error instanceof SignerError && error.kind === 'malformed'
    ? error.message
    : 'Your signer did not sign the sign-in request: it was refused, or the signer window was closed.';
  return new LoginError('refused', SIGNATURE,
    `${what} Without a signature we cannot confirm your key, so you are not signed in. Nothing was shared.` +
    (detail ? ` (Your signer said: “${detail}”.)` : ''));
}

const API_REASONS = {
  bad_signature: ['bad_signature', 'The signature from your signer did not verify, so we could not confirm it is your key. Try again; if it keeps happening, update or change your signer.'],
  bad_id: ['bad_signature', 'Your signer returned an event whose id does not match its content. Try again; if it keeps happening, update or change your signer.'],
  malformed_event: ['bad_signature', 'Your signer returned a sign-in event this site cannot read. Try again, or try another signer.'],
  wrong_kind: ['bad_signature', 'Your signer changed the kind of the sign-in event. Try again, or try another signer.'],
  wrong_url: ['bad_signature', 'The signed event names another site address than this one. Reload the page and try again.'],
  wrong_method: ['bad_signature', 'Your signer changed the sign-in event. Try again, or try another signer.'],
  missing_challenge: ['bad_signature', 'Your signer left the challenge out of the sign-in event. Try again, or try another signer.'],
  unknown_challenge: ['expired', 'The sign-in challenge is no longer known to the server (it may have restarted). Try again.'],
  expired_challenge: ['expired', 'The sign-in request expired before it was signed (they last 5 minutes). Try again.'],
  used_challenge: ['expired', 'This sign-in request was already used. Try again for a fresh one.'],
  stale_event: ['expired', 'The signed event is too old: the sign-in request expired, or your device clock is behind. Try again, and check your clock if it keeps happening.'],
  future_event: ['clock', 'The signed event is dated in the future: your device clock seems to be ahead. Set your clock right and try again.'],
  cross_origin: ['wrong_site', 'This page is not served from the site address hostr is configured for, so sign-in is refused. Open the site at its usual address.'],
};

function fromApi(error) {
  if (!(error instanceof ApiError)) return new LoginError('other', 'Sign-in failed', String(error));
  const known = API_REASONS[error.code];
  if (known) return new LoginError(known[0], SIGNATURE, known[1]);
  if (error.code === 'too_many_challenges') {
    return new LoginError('rate_limited', 'Too many sign-in attempts', 'Too many sign-in attempts came from your network. Wait a minute, then try again.');
  }
  return new LoginError(error.code, 'Sign-in failed', error.message);
}
