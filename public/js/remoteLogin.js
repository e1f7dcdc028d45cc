// Sign in with a remote signer (NIP-46: Amber, nsec.app, …), for phones and
// browsers without a signer extension. This module and the vendored
// nostr-tools client (/vendor/nostr-nip46.js) load only when the customer
// chooses this way, so no page carries them on its first load.
//
// Two ways to connect: the page shows a nostrconnect:// QR code and link
// naming this site's relays (`POST /api/nostrconnect`), which the signer
// scans and answers; or the customer pastes their signer's bunker:// URI.
// The page and the signer then talk through those relays, NIP-44
// encrypted, and the usual sign-in (nostrAuth.js) has the signer sign the
// same kind-27235 event as a browser signer would.

import {api} from './api.js';
import {HEX64} from './nostr.js';
import {answered, SignerError} from './signer.js';
import {copyButton, fill, h, message} from './ui.js';

// Its styles come with it, so the sign-in page's first load does not carry them.
if (!document.querySelector('link[href="/css/remote.css"]')) {
  document.head.append(h('link', {rel: 'stylesheet', href: '/css/remote.css'}));
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The one connection being made; a new panel or Cancel ends it. */
let attempt = null;

/** Shows the remote-signer panel in `box`. Once a signer is connected,
 * `signIn(signer)` signs in with it (`{getPublicKey, signEvent}`, as
 * `handleLogin({signer})` wants). */
export async function openRemote(box, signIn) {
  if (attempt) attempt.abort();
  const mine = attempt = new AbortController();
  const status = h('div', {class: 'small muted', role: 'status', 'aria-live': 'polite'}, 'Preparing a connection code…');
  const problem = h('div');
  const codeBox = h('div', {class: 'remote-code'});
  const input = h('input', {type: 'text', id: 'bunker-uri', autocomplete: 'off', spellcheck: 'false', placeholder: 'bunker://…', 'aria-describedby': 'bunker-hint'});
  const close = () => { mine.abort(); fill(box); };
  fill(box, h('div', {class: 'remote', 'data-test': 'remote-panel'},
    h('h3', {}, 'Sign in with a remote signer'),
    h('p', {class: 'small'}, 'Scan this code with a signer app on your phone (Amber, nsec.app or another NIP-46 signer), or open the link on the device that has it. Approve the connection there, then the sign-in request.'),
    codeBox, status, problem,
    h('form', {'data-test': 'bunker-form', onsubmit: (e) => { e.preventDefault(); bunker(input.value, mine, status, problem, signIn); }},
      h('label', {for: 'bunker-uri'}, 'Or paste your signer’s bunker:// address'),
      h('div', {id: 'bunker-hint', class: 'hint'}, 'Your signer shows it under "connect an app" or similar.'),
      h('div', {class: 'row'}, input, h('button', {type: 'submit', class: 'secondary', 'data-test': 'bunker-connect'}, 'Connect'))),
    h('button', {type: 'button', class: 'link', 'data-test': 'remote-close', onclick: close}, 'Cancel')));
  try {
    const lib = await import('/vendor/nostr-nip46.js');
    const key = lib.generateSecretKey();
    const secret = hex(crypto.getRandomValues(new Uint8Array(16)));
    const {uri, qrSvg} = await api('POST', '/api/nostrconnect', {clientPubkey: lib.getPublicKey(key), secret});
    if (mine.signal.aborted) return;
    fill(codeBox,
      qrSvg ? h('div', {class: 'qr'}, h('img', {src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg)}`, alt: 'QR code to connect your signer app'})) : null,
      h('div', {class: 'row'}, h('a', {class: 'button', href: uri, 'data-test': 'nostrconnect-link'}, 'Open in my signer app'), copyButton(uri, 'Copy link')));
    status.textContent = 'Waiting for your signer to connect…';
    const remote = await lib.BunkerSigner.fromURI(key, uri, {}, mine.signal);
    connected(remote, mine, status, signIn);
  } catch (error) {
    if (!mine.signal.aborted) fill(problem, message('error', 'The connection code could not be made', said(error)));
  }
}

/** Connects to the signer a pasted bunker:// URI names. */
async function bunker(text, mine, status, problem, signIn) {
  fill(problem);
  const match = text.trim().match(/^bunker:\/\/([0-9a-f]{64})\?(.+)$/);
  const query = match ? new URLSearchParams(match[2]) : null;
  const relays = query ? query.getAll('relay').filter((r) => /^wss?:\/\//.test(r)) : [];
  if (!relays.length) {
    fill(problem, message('error', 'That is not a bunker:// address', 'It starts with bunker:// and names at least one relay (relay=wss://…). Copy it again from your signer.'));
    return;
  }
  status.textContent = 'Connecting to your signer…';
  try {
    const lib = await import('/vendor/nostr-nip46.js');
    const remote = lib.BunkerSigner.fromBunker(lib.generateSecretKey(), {pubkey: match[1], relays, secret: query.get('secret')});
    await answered(remote.connect(), mine.signal);
    connected(remote, mine, status, signIn);
  } catch (error) {
    if (mine.signal.aborted) return;
    status.textContent = '';
    fill(problem, message('error', 'Your signer did not connect', error instanceof SignerError && error.kind === 'timeout'
      ? 'It did not answer in time. Check that it is running and online, then try again.' : `It refused or failed. ${said(error)}`));
  }
}

/** A connected signer: sign in with it, through the usual sign-in. */
function connected(remote, mine, status, signIn) {
  if (mine.signal.aborted) { remote.close(); return; }
  status.textContent = 'Connected to your signer.';
  signIn({
    async getPublicKey(signal) {
      const key = await answered(remote.getPublicKey(), signal).catch(refused('Your signer did not share your public key.'));
      if (!HEX64.test(key)) throw new SignerError('malformed', 'Your signer returned a public key this page cannot read.');
      return key;
    },
    signEvent: (event, signal) => answered(remote.signEvent(event), signal).catch(refused('Your signer did not sign the request.')),
  });
}

const refused = (text) => (error) => {
  throw error instanceof SignerError ? error : new SignerError('refused', text, said(error));
};

function said(error) {
  const text = error && (error.message || String(error));
  return typeof text === 'string' && text.length < 200 ? text : '';
}
