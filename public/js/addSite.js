// "Add a site" on the profile, loaded only when asked for: a domain for a
// further account of a plan with several (POST /api/add-account); the
// account is created in the background, so the profile is shown again.

import {api} from './api.js';
import {busy, h, message} from './ui.js';

/** Replaces `button` with a small form for the new site's domain. */
export function addSiteForm(account, button) {
  const input = h('input', {type: 'text', id: `add-${account.id}`, 'data-test': 'add-site-domain', inputmode: 'url',
    autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', placeholder: 'example.org'});
  const result = h('div', {'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', 'data-test': 'add-site-submit'}, 'Add this site');
  const form = h('form', {novalidate: true, class: 'stack'},
    h('label', {for: input.id}, `A further site on the plan of ${account.domain}`), input, result,
    h('div', {class: 'row actions'}, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const done = busy(submit, 'Adding…');
    try {
      await api('POST', '/api/add-account', {accountId: account.id, domain: input.value.trim()});
      location.reload();
    } catch (error) {
      done();
      result.replaceChildren(message('error', 'The site was not added', error.message));
    }
  });
  button.replaceWith(form);
  input.focus();
}
