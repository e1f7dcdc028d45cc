// Run by tests/browser.rs (WebDriver "execute/sync"): what sticks out past
// the edges of the viewport, so that a phone would have to scroll sideways
// to read it. Elements and runs of text are measured as rendered; what sits
// inside a scrolling or clipping box (a wide table, the invoice text) is
// left to that box, and what is deliberately placed off screen (the "Skip to
// content" link until it has focus) is left out. Returns the offenders.
const width = document.documentElement.clientWidth;
const out = [];

function describe(el) {
  const id = el.id ? `#${el.id}` : '';
  const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
  return `${el.tagName.toLowerCase()}${id}${cls}`;
}

function clippedOrScrolled(el) {
  for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
    if (getComputedStyle(e).overflowX !== 'visible') return true;
  }
  return false;
}

/** Not rendered: display none, or inside a closed <details>. */
const unseen = (el) => (el.checkVisibility ? !el.checkVisibility() : false);

function sticksOut(rect) {
  if (rect.width === 0 || rect.right <= 0) return false; // empty, or parked off screen on purpose
  return rect.right > width + 0.5 || rect.left < -0.5;
}

for (const el of document.body.querySelectorAll('*')) {
  const rect = el.getBoundingClientRect();
  if (sticksOut(rect) && !unseen(el) && !clippedOrScrolled(el)) {
    out.push({where: describe(el), left: Math.round(rect.left), right: Math.round(rect.right), width});
  }
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (!node.nodeValue.trim() || !node.parentElement || unseen(node.parentElement) || clippedOrScrolled(node)) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  for (const rect of range.getClientRects()) {
    if (sticksOut(rect)) {
      out.push({where: `text in ${describe(node.parentElement)}`, text: node.nodeValue.trim().slice(0, 40),
        left: Math.round(rect.left), right: Math.round(rect.right), width});
      break;
    }
  }
}
if (document.documentElement.scrollWidth > width) {
  out.push({where: 'the page', scrollWidth: document.documentElement.scrollWidth, width});
}
return out;
