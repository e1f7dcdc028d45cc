// Run by tests/browser.rs (WebDriver "execute/sync"): every piece of text on
// the page, in the colours the browser rendered, against WCAG 2 AA — 4.5:1,
// or 3:1 for large text (24 px, or 18.66 px bold). Returns the failures.
//
// The text colour is the computed `color` of the text's element (and of its
// `::before`, for generated text such as a table's stacked labels; of an
// input's value, or of its `::placeholder` while it is empty), blended
// by the opacity of it and its ancestors. The background is found by walking
// up the ancestors, compositing each `background-color` (and every colour of
// a `background-image` gradient, taking the worst) until an opaque one.
// Text of a disabled control is left out: WCAG exempts inactive components.
const failures = [];
const seen = new Set();

function parse(text) {
  let m = /^rgba?\(([^)]*)\)$/.exec(text);
  if (m) {
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  m = /^color\(srgb ([^)]*)\)$/.exec(text);
  if (m) {
    const p = m[1].split(/[\s/]+/).filter(Boolean).map(Number);
    return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
  }
  return null;
}

const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);

function luminance(c) {
  const [r, g, b] = c.slice(0, 3).map((v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function ratio(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** Every colour the background behind `el` can be, or a string saying why unknown. */
function backgrounds(el) {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const style = getComputedStyle(e);
    const colour = parse(style.backgroundColor);
    if (!colour) return `unreadable background ${style.backgroundColor}`;
    const image = style.backgroundImage;
    let stops = [];
    if (image && image !== 'none') {
      if (/url\(/.test(image)) return 'a background image';
      stops = (image.match(/rgba?\([^)]*\)|color\(srgb [^)]*\)/g) || []).map(parse);
    }
    layers.push({colour, stops});
    if (colour[3] === 1 && stops.every((s) => s[3] === 1)) break;
  }
  let results = [[255, 255, 255, 1]];
  for (const {colour, stops} of layers.reverse()) {
    results = results.flatMap((below) => {
      const base = over(colour, below);
      return [base, ...stops.map((s) => over(s, base))];
    });
  }
  return results;
}

function opacity(el) {
  let o = 1;
  for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
  return o;
}

function describe(el) {
  const id = el.id ? `#${el.id}` : '';
  const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
  const test = el.dataset && el.dataset.test ? `[data-test=${el.dataset.test}]` : '';
  return `${el.tagName.toLowerCase()}${id}${cls}${test}`;
}

function visible(el) {
  if (el.checkVisibility && !el.checkVisibility()) return false; // e.g. inside a closed <details>
  const style = getComputedStyle(el);
  if (style.visibility !== 'visible' || style.display === 'none') return false;
  const rect = el.getBoundingClientRect();
  return rect.width > 1 && rect.height > 1;
}

function check(el, style, text) {
  if (el.closest('button:disabled, input:disabled, select:disabled, textarea:disabled, [aria-disabled=true]')) return;
  let fg = parse(style.color);
  const bgs = backgrounds(el);
  const where = `${describe(el.parentElement || el)} > ${describe(el)}`;
  if (!fg || typeof bgs === 'string') {
    failures.push({text, where, problem: fg ? bgs : `unreadable colour ${style.color}`});
    return;
  }
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const need = large ? 3 : 4.5;
  const fade = opacity(el);
  let worst = null;
  for (const bg of bgs) {
    const shown = over([fg[0], fg[1], fg[2], fg[3] * fade], bg);
    const r = ratio(shown, bg);
    if (!worst || r < worst.r) worst = {r, bg, shown};
  }
  if (worst.r >= need) return;
  const rgb = (c) => `rgb(${c.slice(0, 3).map(Math.round).join(', ')})`;
  const key = `${where}|${rgb(worst.shown)}|${rgb(worst.bg)}`;
  if (seen.has(key)) return;
  seen.add(key);
  failures.push({text: text.slice(0, 40), where, colour: rgb(worst.shown), background: rgb(worst.bg),
    ratio: Math.round(worst.r * 100) / 100, need});
}

const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.nodeValue.trim();
  const el = node.parentElement;
  if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName) || !visible(el)) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  if (![...range.getClientRects()].some((r) => r.width > 0 && r.height > 0)) continue;
  check(el, getComputedStyle(el), text);
}
for (const el of document.body.querySelectorAll('*')) {
  if (!visible(el)) continue;
  const before = getComputedStyle(el, '::before');
  if (before.content && !['none', 'normal', '""'].includes(before.content)) check(el, before, `::before ${before.content}`);
  if (el.matches('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea')) {
    if (el.value) check(el, getComputedStyle(el), el.value);
    else if (el.placeholder) check(el, getComputedStyle(el, '::placeholder'), `placeholder ${el.placeholder}`);
  }
}
return failures;
