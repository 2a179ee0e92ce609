// share-box.mjs: the full page's "Link & embed" button and the box it opens:
// the current view as a link and as HTML that embeds it on another page (the
// <unravel-explorer> element, or an <iframe> of this page for sites that take
// no scripts), each with a copy button, kept current as the state changes.
import { embedSnippet } from './url-state.mjs';
import { VIEW_LABELS } from './views/panel.mjs';
import { h } from './ui.mjs';

/** An iframe's size: the page is tall (the network, then the experiment). */
const IFRAME = Object.freeze({ width: '100%', height: 900 });

const escapeAttr = (v) => String(v).replace(/[&"<]/g, (c) => `&#${c.charCodeAt(0)};`);

/** HTML that shows the page at `url` (this view) inside another page. */
export function iframeSnippet(state, url) {
  const title = `unravel explorer: ${VIEW_LABELS[state.view] ?? state.view}, ${state.model}`;
  return `<iframe src="${escapeAttr(url)}" title="${escapeAttr(title)}" width="${IFRAME.width}" height="${IFRAME.height}" ` +
    'style="border: 0" loading="lazy"></iframe>';
}

/**
 * @param {() => object} getState  the explorer's URL state
 * @returns {{button: HTMLElement, box: HTMLElement, update: () => void}}
 */
export function createShareBox(getState) {
  const button = h('button', { type: 'button', class: 'share-btn', 'aria-expanded': 'false', 'aria-controls': 'ux-share' }, 'Link & embed');
  const url = h('input', { type: 'text', readonly: true, class: 'share-text', 'aria-label': 'link to this view' });
  const html = h('textarea', { readonly: true, rows: 2, class: 'share-text', 'aria-label': 'HTML that embeds this view' });
  const copyButton = (field) => h('button', { type: 'button', onclick: async (e) => {
    field.select();
    try { await navigator.clipboard.writeText(field.value); e.target.textContent = 'Copied'; }
    catch { e.target.textContent = 'Selected: press Ctrl+C'; }
    setTimeout(() => { e.target.textContent = 'Copy'; }, 1500);
  } }, 'Copy');
  // which HTML: toggle buttons (not radios: the box's one text input stays the link)
  let kind = 'element';
  const kindButton = (value, text, title) => h('button', { type: 'button', class: 'share-kind', 'data-kind': value, title,
    'aria-pressed': String(value === kind), onclick: () => { kind = value; update(); } }, text);
  const kinds = h('div', { class: 'share-kinds', role: 'group', 'aria-label': 'embed as' },
    'Embed this view on another page as ',
    kindButton('element', '<unravel-explorer>', 'a script and a custom element: this view alone, themable, with events (see embed.html)'),
    kindButton('iframe', '<iframe>', 'this whole page in a frame: for sites that allow no scripts'));
  const box = h('div', { class: 'share', id: 'ux-share', hidden: true },
    h('label', {}, 'Link ', url), copyButton(url),
    kinds,
    h('label', {}, 'HTML ', html), copyButton(html));

  function update() {
    if (box.hidden) return;
    url.value = location.href;
    for (const b of kinds.querySelectorAll('.share-kind')) b.setAttribute('aria-pressed', String(b.dataset.kind === kind));
    html.value = kind === 'iframe' ? iframeSnippet(getState(), location.href)
      : embedSnippet(getState(), new URL('unravel-explorer.mjs', import.meta.url).href);
  }
  button.addEventListener('click', () => {
    box.hidden = !box.hidden;
    button.setAttribute('aria-expanded', String(!box.hidden));
    update();
  });
  return { button, box, update };
}
