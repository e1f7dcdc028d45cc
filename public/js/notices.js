// The profile's "Notices" card: what can reach the customer (a Nostr inbox
// list, a confirmed email), their choices, and a new confirmation link.

import {api} from './api.js';
import {busy, byId, fill, h} from './ui.js';

/** Shows `profile.notices`: reach, warnings, and the saved choices. */
export function renderNotices(profile) {
  const notices = profile.notices;
  if (!notices) return;
  const inbox = notices.nostrInbox === 'found'
    ? h('p', {class: 'small', 'data-test': 'inbox-found'}, 'Nostr: your inbox relay list was found; private messages go to its relays.')
    : h('p', {class: 'small', 'data-test': 'inbox-none'},
      'Nostr: no inbox relay list (kind 10050) was found for your key, so no private message can reach you. ',
      'Nostr apps publish this list when you turn on private messages (NIP-17), for example 0xchat, Amethyst, Coracle or Flotilla.');
  const email = notices.email;
  const mail = !email
    ? h('p', {class: 'small'}, 'Email: none set.')
    : email.confirmed
      ? h('p', {class: 'small'}, `Email: ${email.address}, confirmed.`)
      : h('p', {class: 'small'}, `Email: ${email.address}, not confirmed yet: only the confirmation link is sent to it. `,
        h('button', {type: 'button', class: 'secondary small', id: 'notices-resend'}, 'Send the link again'));
  const none = notices.reachable ? null
    : h('div', {class: 'field-error', role: 'alert', 'data-test': 'unreachable'},
      'Nothing can reach you now: we cannot tell you before your hosting expires. Publish an inbox list or confirm an email address.');
  fill('notices-reach', inbox, mail, none);
  byId('notices-nostr').checked = notices.preferences.nostr;
  byId('notices-email').value = notices.preferences.email;
  byId('notices-optional').checked = notices.preferences.optional;
}

/** Saves the choices and asks for new links; `set` takes the new profile. */
export function wireNotices(set) {
  const result = byId('notices-result');
  byId('notices-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(result);
    const done = busy(byId('notices-save'), 'Saving…');
    const preferences = {
      nostr: byId('notices-nostr').checked,
      email: byId('notices-email').value,
      optional: byId('notices-optional').checked,
    };
    try {
      set(await api('PUT', '/api/profile', {notices: preferences}));
      fill(result, h('div', {class: 'field-ok'}, 'Saved.'));
    } catch (error) {
      fill(result, h('div', {class: 'field-error', role: 'alert'}, error.message));
    } finally {
      done();
    }
  });
  byId('notices-reach').addEventListener('click', async (e) => {
    if (e.target.id !== 'notices-resend') return;
    fill(result);
    try {
      await api('POST', '/api/confirm-email/send');
      fill(result, h('div', {class: 'field-ok'}, 'A new link is on its way.'));
    } catch (error) {
      fill(result, h('div', {class: 'field-error', role: 'alert'}, error.message));
    }
  });
}
