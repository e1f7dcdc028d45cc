// Plans with several accounts on the profile, loaded only for customers who
// have one: each further account (`groupOf`) is moved right after the
// account whose plan it shares and says so, and that account offers "Add a
// site" while its plan has room (POST /api/add-account); the new account is
// created in the background, so the profile is shown again.

import {api} from './api.js';
import {busy, h, message} from './ui.js';

const card = (account) => document.getElementById(`acct-${account.id}`)?.closest('article');

/** Groups the cards `profile.cpanelAccounts` drew; `usable`: the customer may act. */
export function groupAccounts(profile, usable) {
  const accounts = profile.cpanelAccounts || [];
  for (const primary of accounts.filter((a) => !a.groupOf)) {
    const members = accounts.filter((a) => a.groupOf === primary.id);
    let after = card(primary);
    if (!after) continue;
    for (const member of members) {
      const el = card(member);
      if (!el) continue;
      after.after(el);
      after = el;
      el.querySelector('[data-test=plan-of]').append(` · included in the plan of ${primary.domain}`);
    }
    const plan = (profile.plans || {})[primary.planId];
    const used = 1 + members.filter((m) => m.status !== 'TERMINATED').length;
    if (!usable || !plan || primary.status !== 'ACTIVE' || plan.accounts <= used) continue;
    const button = h('button', {type: 'button', class: 'secondary', 'data-test': 'add-site'},
      `Add a site (${plan.accounts - used} more included)`);
    button.addEventListener('click', () => addSiteForm(primary, button));
    const row = card(primary).querySelector('.account-actions');
    row.hidden = false;
    row.append(button);
  }
}

/** Replaces `button` with a small form for the new site's domain. */
function addSiteForm(account, button) {
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
