// A real NIP-46 remote signer for hostr's browser tests: NDK's
// NDKNip46Backend (@nostr-dev-kit/ndk, which nobody here wrote) holding one
// key and answering through one relay with NIP-44 encryption.
//
//   node signer.mjs <relay ws:// URL> <secret key, 64 hex>
//
// Prints `bunker bunker://<pubkey>?relay=…&secret=…` once it listens. Each
// `nostrconnect://…` line read from stdin is a client to connect to (the
// signer announces itself with the URI's secret, as NIP-46 says). Every
// request it answers is printed as `request <method> [<event kind>]`, so a
// test can tell what it was asked to sign.

import WebSocket from 'ws';
import {randomBytes} from 'node:crypto';
import {createInterface} from 'node:readline';

// NDK opens relays with the global WebSocket, which Node 20 lacks.
globalThis.WebSocket = WebSocket;
const {default: NDK, NDKNip46Backend, NDKPrivateKeySigner} = await import('@nostr-dev-kit/ndk');

const [relay, secretKey] = process.argv.slice(2);
if (!relay || !/^[0-9a-f]{64}$/.test(secretKey || '')) {
  console.error('usage: node signer.mjs <relay URL> <secret key hex>');
  process.exit(2);
}

const ndk = new NDK({explicitRelayUrls: [relay]});
await ndk.connect(5000);
const signer = new NDKPrivateKeySigner(secretKey);
const user = await signer.user();
const secret = randomBytes(16).toString('hex');

// Every request is allowed (this is the customer's own signer, approving).
const backend = new NDKNip46Backend(ndk, signer, async ({method, params}) => {
  // For sign_event, NDK hands over the event to sign.
  console.log(`request ${method}${method === 'sign_event' ? ` ${params.kind}` : ''}`);
  return true;
}, [relay]);
// A bunker:// client proves it was given the URI by sending its secret with
// `connect`; NDK leaves checking it to the application.
backend.applyToken = async (_pubkey, token) => {
  if (token !== secret) throw new Error('wrong connection secret');
};
await backend.start();
console.log(`bunker bunker://${user.pubkey}?relay=${encodeURIComponent(relay)}&secret=${secret}`);

// nostrconnect://<client pubkey>?relay=…&secret=…: the signer speaks first,
// answering the client's secret (NIP-46 "connect" initiated by the client).
createInterface({input: process.stdin}).on('line', async (line) => {
  const text = line.trim();
  if (!text.startsWith('nostrconnect://')) return;
  try {
    const uri = new URL(text);
    const client = uri.host || uri.pathname.replace(/^\/+/, '');
    const given = uri.searchParams.get('secret');
    if (!/^[0-9a-f]{64}$/.test(client) || !given) throw new Error('not a nostrconnect URI');
    await backend.rpc.sendResponse(randomBytes(8).toString('hex'), client, given);
    console.log(`connected ${client}`);
  } catch (error) {
    console.log(`refused ${error.message}`);
  }
});
