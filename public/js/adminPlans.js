// The console's plans: every plan with its price, name and sale state
// editable, and a form to add one (written as `hostr plan` writes them).

import {api} from './api.js';
import {startConsolePage} from './adminAuth.js';
import {byId, fill, h, message, money} from './ui.js';

async function load() {
  const {plans} = await api('GET', '/api/admin/plans');
  fill('plans', plans.map((p) => {
    const result = h('div', {});
    const form = h('form', {class: 'act', 'data-test': `plan-${p.id}`},
      h('label', {}, 'Name', h('input', {name: 'name', value: p.name})),
      h('label', {}, `Price (${p.currency}, ${p.billingCycle})`, h('input', {name: 'price', value: String(p.price), inputmode: 'decimal'})),
      h('label', {}, 'On sale', h('select', {name: 'available'}, h('option', {value: 'true', selected: p.available}, 'yes'),
        h('option', {value: 'false', selected: !p.available}, 'no'))),
      h('button', {type: 'submit'}, 'Save'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const change = {name: data.get('name'), price: Number(data.get('price')), available: data.get('available') === 'true'};
      try {
        const after = await api('PUT', `/api/admin/plans/${encodeURIComponent(p.id)}`, change);
        fill(result, message('ok', 'Saved', `${after.name}: ${money(after.price, after.currency)}, ${after.available ? 'on sale' : 'not on sale'}.`));
      } catch (error) {
        fill(result, message('error', 'Not saved', error.message));
      }
    });
    return h('section', {class: 'card'}, h('h2', {}, `${p.id} · ${p.storage} GB · ${p.bandwidth} GB transfer · ${p.whmPackage}`), form, result);
  }));
}

byId('add').addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(byId('add'));
  const plan = {id: data.get('id'), name: data.get('name'), storage: Number(data.get('storage')),
    bandwidth: Number(data.get('bandwidth')), price: Number(data.get('price')), currency: data.get('currency').trim().toUpperCase(),
    billingCycle: data.get('billingCycle'), accounts: Number(data.get('accounts')), available: true};
  if (data.get('whmPackage').trim()) plan.whmPackage = data.get('whmPackage').trim();
  try {
    const added = await api('POST', '/api/admin/plans', plan);
    fill('add-result', message('ok', 'Added', `${added.id}: ${money(added.price, added.currency)}.`));
    await load();
  } catch (error) {
    fill('add-result', message('error', 'Not added', error.message));
  }
});
startConsolePage(load);
