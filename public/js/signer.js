// The browser's Nostr signer (NIP-07 `window.nostr`: Alby, nos2x, Flamingo,
// …). The private key stays in the signer; the page only asks it for the
// public key and for signatures.

import {HEX64} from './nostr.js';

/** Thrown when the signer refuses, is closed, or answers nonsense. */
export class SignerError extends Error {
  constructor(kind, message, detail = '') {
    super(message);
    this.kind = kind; // 'missing' | 'refused' | 'malformed' | 'timeout' | 'cancelled'
    this.detail = detail; // what the signer itself said, if anything
  }
}

export function isSignerAvailable() {
  const nostr = window.nostr;
  return typeof nostr === 'object' && nostr !== null &&
    typeof nostr.getPublicKey === 'function' && typeof nostr.signEvent === 'function';
}

/** How long the signer may take to answer one request before the page
 * gives up: 30 s, or `window.hostrSignerTimeoutMs` when set (the browser
 * tests' hook; see docs/PAGES.md). */
export function signerTimeoutMs() {
  const hook = Number(window.hostrSignerTimeoutMs);
  return hook > 0 ? hook : 30000;
}

/** Throws a SignerError('cancelled') once `signal` has aborted. */
export function throwIfCancelled(signal) {
  if (signal && signal.aborted) throw new SignerError('cancelled', 'You cancelled the sign-in.');
}

/** `promise`, unless the signer takes longer than `signerTimeoutMs()`
 * (SignerError 'timeout') or `signal` aborts first ('cancelled'). A late
 * answer is then ignored. Remote signers (remoteLogin.js) use it too. */
export function answered(promise, signal) {
  return new Promise((resolve, reject) => {
    const stop = (error) => { done(); reject(error); };
    const cancel = () => stop(new SignerError('cancelled', 'You cancelled the sign-in.'));
    const timer = setTimeout(() => stop(new SignerError('timeout', 'Your signer did not answer.')), signerTimeoutMs());
    const done = () => { clearTimeout(timer); if (signal) signal.removeEventListener('abort', cancel); };
    if (signal) signal.addEventListener('abort', cancel);
    if (signal && signal.aborted) cancel();
    promise.then((value) => { done(); resolve(value); }, (error) => { done(); reject(error); });
  });
}

/** Extensions inject `window.nostr` late (some only after the page has
 * loaded): wait up to `ms` for it before deciding there is none. */
export async function waitForSigner(ms = 3000, signal = null) {
  const deadline = Date.now() + ms;
  while (!isSignerAvailable()) {
    throwIfCancelled(signal);
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** The signer's public key, as 64 lowercase hex digits. */
export async function getPublicKey(signal = null) {
  if (!isSignerAvailable()) throw new SignerError('missing', 'No Nostr signer is available.');
  let key;
  try {
    key = await answered(Promise.resolve().then(() => window.nostr.getPublicKey()), signal);
  } catch (error) {
    if (error instanceof SignerError) throw error;
    throw new SignerError('refused', 'Your signer did not share your public key.', said(error));
  }
  key = typeof key === 'string' ? key.trim().toLowerCase() : '';
  if (!HEX64.test(key)) throw new SignerError('malformed', 'Your signer returned a public key this page cannot read.');
  return key;
}

/** Asks the signer to sign `event` (kind, created_at, tags, content). */
export async function signEvent(event, signal = null) {
  if (!isSignerAvailable()) throw new SignerError('missing', 'No Nostr signer is available.');
  let signed;
  try {
    signed = await answered(Promise.resolve().then(() => window.nostr.signEvent(event)), signal);
  } catch (error) {
    if (error instanceof SignerError) throw error;
    throw new SignerError('refused', 'Your signer did not sign the request.', said(error));
  }
  if (!signed || typeof signed !== 'object' || typeof signed.sig !== 'string' || typeof signed.id !== 'string') {
    throw new SignerError('refused', 'Your signer returned no signature (the request was refused or closed).');
  }
  return signed;
}

/** Whether a WebLN wallet (Alby and others) can pay invoices in one click. */
export function hasWebLN() {
  return typeof window.webln === 'object' && window.webln !== null && typeof window.webln.sendPayment === 'function';
}

function said(error) {
  const text = error && (error.message || String(error));
  return typeof text === 'string' && text.length < 200 ? text : '';
}
