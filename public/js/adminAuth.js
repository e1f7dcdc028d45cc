// The console's door, shared by its pages: the session check, sign-in with
// the operator's Nostr key (the customers' challenge, an event for
// /api/admin/verify), the operator in the header, sign-out.

import {api, ApiError} from './api.js';
import {startPage} from './page.js';
import {getPublicKey, signEvent, waitForSigner} from './signer.js';
import {fill, h, message, shortNpub, show} from './ui.js';

let load = async () => {};

/** Starts a console page: `onOpen` runs once an operator is signed in. */
export async function startConsolePage(onOpen) {
  load = onOpen;
  startPage();
  try {
    await open(await api('GET', '/api/admin/session'));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 404) {
      gate(message('info', 'This site has no console', 'Set HOSTR_ADMIN_NPUBS to the operators\u2019 keys and restart hostr.'));
    } else {
      gate(message('info', 'Operators only', error.code === 'operator_sign_in_required' ? 'Sign in with an operator\u2019s Nostr key.' : error.message,
        h('button', {type: 'button', 'data-test': 'admin-login', onclick: signIn}, 'Sign in with Nostr')));
    }
  }
}

function gate(...children) {
  show('console', false);
  fill('gate', ...children);
}

async function signIn() {
  try {
    if (!(await waitForSigner(3000))) throw new Error('This browser has no Nostr signer extension, or it is switched off.');
    const pubkey = await getPublicKey();
    const challenge = await api('GET', '/api/challenge');
    const event = {
      kind: 27235, created_at: Math.floor(Date.now() / 1000), pubkey, content: challenge.content,
      tags: [['u', `${location.origin}/api/admin/verify`], ['method', 'POST'], ['challenge', challenge.challenge]],
    };
    await open(await api('POST', '/api/admin/verify', {event: await signEvent(event)}));
  } catch (error) {
    gate(message('error', 'Not signed in', error.message,
      h('button', {type: 'button', 'data-test': 'admin-login', onclick: signIn}, 'Try again')));
  }
}

async function open(me) {
  fill('who', h('span', {class: 'small', 'data-test': 'operator-npub'}, shortNpub(me.npub)), ' ',
    h('button', {type: 'button', class: 'secondary small', onclick: signOut}, 'Sign out'));
  await load();
  fill('gate');
  show('console', true);
}

async function signOut() {
  await api('POST', '/api/admin/logout').catch(() => null);
  location.reload();
}
