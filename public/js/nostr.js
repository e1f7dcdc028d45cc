// The customer's Nostr profile (kind 0), read from relays over WebSocket.
//
// A few well-known relays are asked first, plus the relays the customer
// lists in their kind-10002 event when one is found; the newest kind-0
// event wins. Each relay has a deadline, so a dead relay never hangs the
// page. The event is then handed to the server (`PUT /api/profile`), which
// checks its signature and keeps a verified copy; the pages show that copy.

import {api} from './api.js';
import {h} from './ui.js';

export const RELAYS = [
  'wss://relay.damus.io',
  'wss://nos.lol',
  'wss://relay.primal.net',
  'wss://purplepag.es',
  'wss://relay.nostr.band',
];

const RELAY_TIMEOUT_MS = 4000;
const MAX_LISTED_RELAYS = 4;
/** A public key or an event id as Nostr writes them: 64 lowercase hex digits. */
export const HEX64 = /^[0-9a-f]{64}$/;

/** The events of `kinds` by `pubkey` that `url` has, or [] after
 * `timeoutMs` or on any failure. Always closes the connection. */
export function fetchProfileFromRelay(url, pubkey, {kinds = [0, 10002], timeoutMs = RELAY_TIMEOUT_MS} = {}) {
  return new Promise((resolve) => {
    const events = [];
    const sub = `hostr-${Math.random().toString(36).slice(2, 10)}`;
    let socket;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        if (socket && socket.readyState === 1) socket.send(JSON.stringify(['CLOSE', sub]));
        if (socket) socket.close();
      } catch { /* already gone */ }
      resolve(events);
    };
    const timer = setTimeout(finish, timeoutMs);
    try {
      socket = new WebSocket(url);
    } catch {
      finish();
      return;
    }
    socket.onopen = () => {
      try {
        socket.send(JSON.stringify(['REQ', sub, {kinds, authors: [pubkey], limit: 2 * kinds.length}]));
      } catch {
        finish();
      }
    };
    socket.onmessage = (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (!Array.isArray(data) || data[1] !== sub) return;
      if (data[0] === 'EVENT' && plausible(data[2], pubkey, kinds)) events.push(data[2]);
      else if (data[0] === 'EOSE' || data[0] === 'CLOSED') finish();
    };
    socket.onerror = finish;
    socket.onclose = finish;
  });
}

function plausible(event, pubkey, kinds) {
  return event && typeof event === 'object' && event.pubkey === pubkey && kinds.includes(event.kind) &&
    typeof event.id === 'string' && HEX64.test(event.id) && typeof event.sig === 'string' &&
    Number.isInteger(event.created_at) && typeof event.content === 'string' && Array.isArray(event.tags);
}

/** Whether the event's id is the hash of its content (the server checks the
 * signature too). Without WebCrypto (plain http), it is left to the server. */
async function idMatches(event) {
  if (!(window.crypto && crypto.subtle)) return true;
  const serialized = JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(serialized));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  return hex === event.id;
}

async function newest(events, kind) {
  const candidates = events.filter((e) => e.kind === kind).sort((a, b) => b.created_at - a.created_at);
  for (const event of candidates) {
    if (await idMatches(event)) return event;
  }
  return null;
}

/** The newest kind-0 event of `pubkey` (or null) and the relays asked. */
export async function fetchProfile(pubkey, relays = RELAYS) {
  if (!HEX64.test(pubkey) || typeof WebSocket !== 'function') return {event: null, relays: []};
  const first = await Promise.all(relays.map((url) => fetchProfileFromRelay(url, pubkey)));
  const events = first.flat();
  const list = await newest(events, 10002);
  const listed = list ? list.tags
    .filter((t) => Array.isArray(t) && t[0] === 'r' && typeof t[1] === 'string' && /^wss:\/\/[^\s]+$/i.test(t[1]) && t[2] !== 'read')
    .map((t) => t[1].replace(/\/+$/, ''))
    .filter((url) => !relays.includes(url))
    .slice(0, MAX_LISTED_RELAYS) : [];
  const more = await Promise.all(listed.map((url) => fetchProfileFromRelay(url, pubkey, {kinds: [0]})));
  return {event: await newest(events.concat(more.flat()), 0), relays: relays.concat(listed)};
}

/** Reads the profile from relays and gives it to the server when it is
 * newer than the copy the server keeps (`known`: the server's metadata).
 * Resolves to the server's updated profile answer, or null when nothing
 * changed. (How often pages do this is `startProfileSync`'s business.) */
export async function syncProfile(pubkey, known) {
  const {event} = await fetchProfile(pubkey);
  if (!event) return null;
  if (known && known.eventCreatedAt >= event.created_at) return null;
  return api('PUT', '/api/profile', {metadata: event});
}

/** The fields of a kind-0 event a page shows, read as the server reads them. */
export function parseMetadata(event) {
  if (!event) return null;
  let content;
  try { content = JSON.parse(event.content); } catch { return null; }
  if (!content || typeof content !== 'object') return null;
  const text = (v) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 1000) : null);
  const picture = text(content.picture);
  return {
    name: text(content.name),
    displayName: text(content.display_name) || text(content.displayName),
    picture: picture && /^https:\/\/\S+$/i.test(picture) ? picture : null,
    about: text(content.about),
    nip05: text(content.nip05),
    eventCreatedAt: event.created_at,
  };
}

/** The NIP-05 badge, as the server verified it: verified, failed (with the
 * reason), or not checked yet. Null when the profile names none. */
export function verifyNip05(metadata) {
  if (!metadata || !metadata.nip05) return null;
  const id = metadata.nip05.startsWith('_@') ? metadata.nip05.slice(2) : metadata.nip05;
  const check = metadata.nip05Check;
  if (check && check.identifier === metadata.nip05 && check.valid) {
    return h('span', {class: 'badge ok', title: 'Verified by this server', 'data-test': 'nip05'}, '✓ ', id);
  }
  if (check && check.identifier === metadata.nip05) {
    return h('span', {class: 'badge bad', title: check.reason || 'Not verified', 'data-test': 'nip05'},
      '✗ ', id, ' — not verified', check.reason ? `: ${check.reason}` : '');
  }
  return h('span', {class: 'badge plain', title: 'The server is checking this identifier', 'data-test': 'nip05'}, id, ' — checking…');
}
