// First steps for a ready account, on the success screen and the profile:
// the cPanel user, where to sign in to cPanel, and the next step — point
// the domain here, by nameservers at the registrar or by A/AAAA records.
// The facts come from the server (`firstSteps` in the account's answer);
// this only words them.

import {copyButton, h} from './ui.js';

// Its styles come with it, so pages that never show it do not carry them.
if (!document.querySelector('link[href="/css/first-steps.css"]')) {
  document.head.append(h('link', {rel: 'stylesheet', href: '/css/first-steps.css'}));
}

/** The first-steps panel for `steps` (`null` while the account is not ready). */
export function firstSteps(steps) {
  if (!steps) return null;
  const {domain, ip, nameservers, records, username, cpanelUrl} = steps;
  const ways = [];
  if (nameservers.length) {
    ways.push(h('li', {'data-test': 'nameservers'},
      `At the registrar where you bought ${domain}, set its nameservers to `,
      nameservers.flatMap((ns, i) => [i ? ', ' : null, h('code', {}, ns)]), '.'));
  }
  if (records.length) {
    ways.push(h('li', {'data-test': 'records'},
      nameservers.length ? 'Or keep your DNS where it is and add these records:' : `Where the DNS of ${domain} is managed, add these records:`,
      h('ul', {class: 'records'}, records.map((r) =>
        h('li', {}, `${r.type} record: `, h('code', {}, r.name), ' → ', h('code', {}, r.value))))));
  }
  if (!ways.length) ways.push(h('li', {}, 'Ask the operator where to point your domain: this server did not say.'));
  const login = cpanelUrl && /^https?:\/\//.test(cpanelUrl)
    ? h('a', {href: cpanelUrl, target: '_blank', rel: 'noopener noreferrer', 'data-test': 'cpanel-url'}, cpanelUrl) : null;
  return h('section', {class: 'first-steps', 'data-test': 'first-steps'},
    h('h3', {}, `Next step: point ${domain} here`),
    h('ol', {}, ways),
    h('dl', {class: 'facts'},
      h('dt', {}, 'cPanel user'), h('dd', {}, h('code', {'data-test': 'first-user'}, username)),
      ip ? [h('dt', {}, 'Server address'), h('dd', {}, h('code', {'data-test': 'server-ip'}, ip), ' ', copyButton(ip))] : null,
      login ? [h('dt', {}, 'cPanel sign-in'), h('dd', {}, login)] : null),
    h('p', {class: 'small muted'}, 'DNS changes can take up to a day to reach everyone. "Open cPanel" on your profile works already.'));
}
