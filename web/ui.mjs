// ui.mjs: small DOM helpers shared by the explorer: element builder, messages,
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
 * A progress row: <progress>, a label, a cancel button. Once a run has gone
 * on for a couple of seconds, the label adds the time left, extrapolated
 * from the time so far.
 * @returns {{el: HTMLElement, start: (label: string, onCancel: () => void) => void,
 *            set: (fraction: number) => void, done: (label?: string) => void}}
 */
export function progressRow(cls = '') {
  const bar = h('progress', { max: 1, value: 0 });
  const label = h('span', { class: 'progress-label' });
  let onCancel = null;
  const cancel = h('button', { type: 'button', class: 'cancel', onclick: () => onCancel?.() }, 'Cancel');
  const el = h('div', { class: `progress-row ${cls}`, hidden: true }, bar, label, cancel);
  let text = '', t0 = 0;
  return {
    el,
    start(t, cancelFn) {
      text = t; onCancel = cancelFn; bar.value = 0; label.textContent = `${t}…`;
      t0 = performance.now();
      el.hidden = false; cancel.hidden = !cancelFn; el.classList.add('running');
    },
    set(f) {
      bar.value = Math.max(0, Math.min(1, f));
      const elapsed = (performance.now() - t0) / 1000;
      const left = bar.value > 0.02 && bar.value < 1 && elapsed > 2 ? elapsed * (1 - bar.value) / bar.value : null;
      label.textContent = `${text}… ${Math.round(100 * bar.value)}%${left == null ? '' : ` · about ${fmtSeconds(left)} left`}`;
    },
    done(t) {
      el.classList.remove('running');
      onCancel = null;
      if (t) { label.textContent = t; cancel.hidden = true; bar.value = 1; el.hidden = false; }
      else el.hidden = true;
    },
  };
}

/** 4 s, 40 s, 3 min, 1.5 h. */
export function fmtSeconds(s) {
  if (!Number.isFinite(s)) return '?';
  if (s < 10) return `${Math.max(1, Math.round(s))} s`;
  if (s < 90) return `${Math.round(s / 5) * 5} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
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

/**
 * The explorer's message list: say(text, level, key) adds a dismissable
 * message (a later one with the same key replaces it), unsay(key) removes it.
 */
export function createMessages() {
  const el = h('div', { class: 'messages', role: 'status', 'aria-live': 'polite' });
  const find = (key) => el.querySelector(`[data-key="${CSS.escape(key)}"]`);
  function say(text, level = 'warn', key = null) {
    if (key) find(key)?.remove();
    const m = h('div', { class: `msg msg-${level}`, 'data-key': key, role: level === 'error' ? 'alert' : null },
      h('span', {}, text), h('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss', onclick: () => m.remove() }, '×'));
    el.append(m);
    return m;
  }
  return { el, say, unsay: (key) => find(key)?.remove() };
}
