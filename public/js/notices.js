// The profile's "How we reach you" (loaded when opened): whether a Nostr
// inbox list was found and what it is, the email's state and a new
// confirmation link, and the customer's choices.

import {api} from './api.js';
import {busy, byId, fill, h} from './ui.js';

let wired = false;

/** Builds the settings once, then shows `get()`'s profile in them. */
export function open(get, set) {
  if (!wired) build(set);
  wired = true;
  render(get());
}

function build(set) {
  const select = h('select', {id: 'notices-email'},
    h('option', {value: 'fallback'}, 'Only when no Nostr message can reach me'),
    h('option', {value: 'always'}, 'As well as Nostr messages'),
    h('option', {value: 'never'}, 'Never'));
  const form = h('form', {id: 'notices-form', novalidate: ''},
    h('label', {class: 'check'}, h('input', {type: 'checkbox', id: 'notices-nostr'}), ' Private Nostr messages'),
    h('label', {for: 'notices-email'}, 'Email'), select,
    h('label', {class: 'check'}, h('input', {type: 'checkbox', id: 'notices-optional'}),
      ' Also orders, receipts, welcome and renewal reminders'),
    h('p', {class: 'small muted'}, 'Notices about losing your site (expiry, suspension, removal) always go out on a channel that reaches you while you have hosting.'),
    h('div', {id: 'notices-result', 'aria-live': 'polite'}),
    h('div', {class: 'row actions'}, h('button', {type: 'submit', id: 'notices-save'}, 'Save')));
  fill('notices-more', h('div', {id: 'notices-status'}), form);
  const result = byId('notices-result');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(result);
    const done = busy(byId('notices-save'), 'Saving…');
    const notices = {
      nostr: byId('notices-nostr').checked,
      email: byId('notices-email').value,
      optional: byId('notices-optional').checked,
    };
    try {
      set(await api('PUT', '/api/profile', {notices}));
      fill(result, h('div', {class: 'field-ok'}, 'Saved.'));
    } catch (error) {
      fill(result, h('div', {class: 'field-error', role: 'alert'}, error.message));
    } finally {
      done();
    }
  });
  byId('notices-status').addEventListener('click', async (e) => {
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

/** The status lines and the saved choices of `profile.notices`. */
export function render(profile) {
  const notices = profile.notices;
  if (!notices || !wired) return;
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
  fill('notices-status', inbox, mail);
  byId('notices-nostr').checked = notices.preferences.nostr;
  byId('notices-email').value = notices.preferences.email;
  byId('notices-optional').checked = notices.preferences.optional;
}
