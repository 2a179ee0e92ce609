// ui.mjs: small DOM helpers shared by the explorer: element builder,
// progress rows with a cancel button, chart cards with export buttons.
import { saveSvg, savePng, saveCsv, saveJson } from './export.mjs';

export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style' && typeof v === 'object')
      for (const [prop, val] of Object.entries(v)) e.style.setProperty(prop, val);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else if (k === 'html') e.innerHTML = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid != null && kid !== false) e.append(kid);
  return e;
}

/**
 * A progress row: <progress>, a label, a cancel button.
 * @returns {{el: HTMLElement, start: (label: string, onCancel: () => void) => void,
 *            set: (fraction: number) => void, done: (label?: string) => void}}
 */
export function progressRow(cls = '') {
  const bar = h('progress', { max: 1, value: 0 });
  const label = h('span', { class: 'progress-label' });
  let onCancel = null;
  const cancel = h('button', { type: 'button', class: 'cancel', onclick: () => onCancel?.() }, 'Cancel');
  const el = h('div', { class: `progress-row ${cls}`, hidden: true }, bar, label, cancel);
  let text = '';
  return {
    el,
    start(t, cancelFn) {
      text = t; onCancel = cancelFn; bar.value = 0; label.textContent = `${t}…`;
      el.hidden = false; cancel.hidden = !cancelFn; el.classList.add('running');
    },
    set(f) {
      bar.value = Math.max(0, Math.min(1, f));
      label.textContent = `${text}… ${Math.round(100 * bar.value)}%`;
    },
    done(t) {
      el.classList.remove('running');
      onCancel = null;
      if (t) { label.textContent = t; cancel.hidden = true; bar.value = 1; el.hidden = false; }
      else el.hidden = true;
    },
  };
}

/**
 * A chart card: title, export buttons, the chart, a caption.
 * @param {HTMLElement} parent
 * @param {{title: string, caption?: string|Node, name: string, factory: Function, options?: object}} o
 */
export function chartCard(parent, o) {
  const body = h('div', { class: 'chart' });
  const status = h('div', { class: 'chart-status', role: 'status' });
  const exp = (label, fn) => h('button', { type: 'button', class: 'export', 'data-format': label.toLowerCase(),
                                           title: `Download this chart as ${label}`, onclick: fn }, label);
  let chart;
  const fig = h('figure', { class: 'card', 'data-chart': o.name },
    h('figcaption', {},
      h('span', { class: 'card-title' }, o.title),
      h('span', { class: 'exports', role: 'group', 'aria-label': `export ${o.title}` },
        exp('SVG', () => saveSvg(chart.svg, o.name)),
        exp('PNG', () => savePng(chart.svg, o.name).catch((e) => { status.textContent = e.message; })),
        exp('CSV', () => saveCsv(chart.rows(), o.name)),
        exp('JSON', () => saveJson({ chart: o.name, data: chart.json() }, o.name)))),
    body, status,
    o.caption ? h('p', { class: 'caption' }, o.caption) : null);
  parent.append(fig);
  chart = o.factory(body, o.options ?? {});
  return { ...chart, fig, status };
}
