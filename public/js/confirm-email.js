// The link sent to a new email address: shows which address it confirms,
// and confirms it only when the person presses the button (mail scanners
// open links by themselves; only the POST confirms).

import {api} from './api.js';
import {startPage} from './page.js';
import {busy, byId, fill, h, query, show} from './ui.js';

async function start() {
  startPage();
  const token = query('token') || '';
  const state = byId('confirm-state');
  let check;
  try {
    check = await api('GET', `/api/confirm-email?token=${encodeURIComponent(token)}`);
  } catch (error) {
    fill(state, h('p', {class: 'field-error', role: 'alert'}, error.message));
    return;
  }
  if (check.confirmed) {
    fill(state, h('p', {class: 'field-ok'}, `${check.email} is confirmed. Notices can reach you there.`));
    return;
  }
  fill(state, h('p', {}, 'Send hosting notices to ', h('b', {}, check.email), '?'));
  const button = byId('confirm');
  show(button, true);
  button.addEventListener('click', async () => {
    const done = busy(button, 'Confirming…');
    try {
      const confirmed = await api('POST', '/api/confirm-email', {token});
      fill(state, h('p', {class: 'field-ok', 'data-test': 'confirmed'}, `${confirmed.email} is confirmed. Thank you.`));
      show(button, false);
    } catch (error) {
      fill(state, h('p', {class: 'field-error', role: 'alert'}, error.message));
    } finally {
      done();
    }
  });
}

start();
