// Small DOM helpers shared by every page.
//
// Text from relays, customers and the server is only ever put into the page
// as text nodes or attribute values (never as HTML), so a `<script>` in a
// profile name is shown as the characters it is and never runs.

/** Builds an element: `h('a', {href: '/x', class: 'button'}, 'text', child)`.
 * Strings become text nodes; `on…` props become listeners; null, false and
 * undefined children are skipped; arrays are flattened. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'hidden' || key === 'disabled' || key === 'checked') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el` (an element or an id). */
export function fill(el, ...children) {
  const target = typeof el === 'string' ? byId(el) : el;
  target.replaceChildren();
  append(target, children);
  return target;
}

export function byId(id) {
  return document.getElementById(id);
}

export function show(el, visible = true) {
  (typeof el === 'string' ? byId(el) : el).hidden = !visible;
}

/** A message box. `kind`: error | warn | ok | info. Errors are announced
 * to screen readers at once, the others politely. */
export function message(kind, title, text, ...actions) {
  return h('div', {class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status'},
    title ? h('strong', {}, title) : null,
    text ? (text instanceof Node ? text : h('p', {}, text)) : null,
    actions.length ? h('div', {class: 'row actions'}, actions) : null);
}

/** `npub1abcdefgh…uvwxyz` (`head` and `tail` characters kept). */
export function shortNpub(npub, head = 12, tail = 6) {
  return npub && npub.length > head + tail + 2 ? `${npub.slice(0, head)}…${npub.slice(-tail)}` : npub || '';
}

/** A button that copies `text`, saying so for screen readers too. */
export function copyButton(text, label = 'Copy', size = 'small') {
  const button = h('button', {type: 'button', class: `secondary ${size}`, 'aria-label': `${label}: copy to clipboard`}, label);
  button.addEventListener('click', async () => {
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch {
      done = copyByHand(text);
    }
    button.textContent = done ? 'Copied' : 'Select and copy by hand';
    setTimeout(() => { button.textContent = label; }, 1800);
  });
  return button;
}

function copyByHand(text) {
  const area = h('textarea', {class: 'visually-hidden', 'aria-hidden': 'true'});
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  area.remove();
  return ok;
}

/** Plan and payment amounts: `5` + `USD` → `$5.00`; `0.0005` + `BTC` →
 * `0.0005 BTC` (every decimal kept, down to the sat); `21000` + `SAT` →
 * `21,000 sats`. Numbers are formatted from their decimal text, so no digit
 * is rounded away. */
export function money(amount, currency) {
  if (currency === 'SAT') return sats(amount);
  try {
    if (currency === 'BTC') return `${new Intl.NumberFormat(undefined, {maximumFractionDigits: 8}).format(String(amount))} BTC`;
    return new Intl.NumberFormat(undefined, {style: 'currency', currency}).format(String(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

/** A whole number of sats: `21,000 sats`, `1 sat`. */
export function sats(count) {
  return `${new Intl.NumberFormat().format(String(count))} ${Number(count) === 1 ? 'sat' : 'sats'}`;
}

export function date(iso, withTime = false) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return withTime
    ? d.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'})
    : d.toLocaleDateString(undefined, {dateStyle: 'medium'});
}

/** The name to show for a Nostr profile, or null. */
export function displayName(metadata) {
  if (!metadata) return null;
  return metadata.displayName || metadata.display_name || metadata.name || null;
}

/** The person's picture, or their initial when there is none (or it fails
 * to load). Only https pictures are shown, without a referrer. */
export function avatar(metadata, fallbackText, size = '') {
  const initial = (displayName(metadata) || fallbackText || '?').replace(/^npub1/, '').trim().charAt(0).toUpperCase() || '?';
  const letter = h('span', {class: `avatar ${size}`, 'aria-hidden': 'true'}, initial);
  const picture = metadata && metadata.picture;
  if (!picture || !/^https:\/\//i.test(picture)) return letter;
  const img = h('img', {class: `avatar ${size}`, src: picture, alt: '', referrerpolicy: 'no-referrer', loading: 'lazy', decoding: 'async'});
  img.addEventListener('error', () => img.replaceWith(letter));
  return img;
}

/** Picture, name and shortened, copyable npub. */
export function identity(metadata, npub, size = 'small') {
  const name = displayName(metadata);
  return h('div', {class: 'who', 'data-test': 'identity'},
    avatar(metadata, npub, size),
    h('div', {},
      h('div', {class: 'name', 'data-test': 'name'}, name || 'Nostr user'),
      h('div', {class: 'npub'}, h('code', {title: npub}, shortNpub(npub)), copyButton(npub, 'Copy npub'))));
}

export function spinner(text) {
  return h('div', {class: 'loading', role: 'status'}, h('span', {class: 'spinner', 'aria-hidden': 'true'}), text);
}

/** Sets a button busy (disabled, with a label) and returns a function that restores it. */
export function busy(button, label) {
  const before = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (label) button.textContent = label;
  return () => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = before;
  };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function query(name) {
  return new URLSearchParams(location.search).get(name);
}
