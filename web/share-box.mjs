// share-box.mjs: the full page's "Link & embed" button and the box it opens:
// the current view as a link and as HTML that embeds it on another page, each
// with a copy button, kept current as the state changes.
import { embedSnippet } from './url-state.mjs';
import { h } from './ui.mjs';

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
  const box = h('div', { class: 'share', id: 'ux-share', hidden: true },
    h('label', {}, 'Link ', url), copyButton(url),
    h('label', {}, 'Embed this view on another page ', html), copyButton(html));

  function update() {
    if (box.hidden) return;
    url.value = location.href;
    html.value = embedSnippet(getState(), new URL('unravel-explorer.mjs', import.meta.url).href);
  }
  button.addEventListener('click', () => {
    box.hidden = !box.hidden;
    button.setAttribute('aria-expanded', String(!box.hidden));
    update();
  });
  return { button, box, update };
}
