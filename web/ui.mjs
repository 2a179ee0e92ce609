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
 * A progress row: <progress>, a label, a cancel button. A run may come with
 * an estimate of its seconds (a number, or a function giving one once it is
 * known: cost.mjs from the speed measured on this machine): the label says it
 * at the start ("about 1.5 min on this machine") and counts it down until the
 * run's own pace is known; from a tenth of the way (or 10 s) the time left is
 * extrapolated from the time so far. `after`: seconds of the work queued
 * behind this part of a run (the next networks of Across depths), added.
 * @returns {{el: HTMLElement, start: (label: string, onCancel: () => void,
 *            o?: {estimate?: number|(() => number|null), after?: () => number|null}) => void,
 *            set: (fraction: number) => void, done: (label?: string) => void}}
 */
export function progressRow(cls = '') {
  const bar = h('progress', { max: 1, value: 0 });
  const label = h('span', { class: 'progress-label' });
  let onCancel = null;
  const cancel = h('button', { type: 'button', class: 'cancel', onclick: () => onCancel?.() }, 'Cancel');
  const el = h('div', { class: `progress-row ${cls}`, hidden: true }, bar, label, cancel);
  let text = '', t0 = 0, estimate = null, after = null;
  const seconds = (f) => { const s = typeof f === 'function' ? f() : f; return Number.isFinite(s) && s > 0 ? s : null; };
  const estimated = () => {
    const s = seconds(estimate);
    if (s != null) el.dataset.estimate = (s + (seconds(after) ?? 0)).toFixed(2);   // seconds, for tests
    return s;
  };
  return {
    el,
    start(t, cancelFn, o = {}) {
      text = t; onCancel = cancelFn; bar.value = 0; estimate = o.estimate ?? null; after = o.after ?? null;
      delete el.dataset.estimate;
      const s = estimated();
      label.textContent = `${t}…${s == null ? '' : ` about ${fmtSeconds(s + (seconds(after) ?? 0))} on this machine`}`;
      t0 = performance.now();
      el.hidden = false; cancel.hidden = !cancelFn; el.classList.add('running');
    },
    set(f) {
      bar.value = Math.max(0, Math.min(1, f));
      const elapsed = (performance.now() - t0) / 1000;
      const s = estimated();
      const paced = bar.value > 0.02 && elapsed > 2 && (s == null || bar.value >= 0.1 || elapsed >= 10);
      const here = bar.value >= 1 ? null : paced ? elapsed * (1 - bar.value) / bar.value : s == null ? null : Math.max(1, s - elapsed);
      const left = here == null ? null : here + (seconds(after) ?? 0);
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
 * The explorer's messages, one component for all of them. say(text, level,
 * kind, {at, detail, reveal}) shows a dismissable message in `at`: a place
 * made by place(), beside the control the message is about (by default the
 * explorer's own list at its top). A later message of the same kind replaces
 * it, wherever it was, so they never pile up; unsay(kind) removes it. text is
 * a sentence or a list of them (one per line); detail, the technical text
 * (the JS API's own message), is folded under "Details"; reveal scrolls the
 * message into view when it is not (a file dropped further down the page).
 */
export function createMessages() {
  const live = (cls) => h('div', { class: cls, role: 'status', 'aria-live': 'polite' });
  const el = live('messages');
  const shown = new Map();   // kind -> its message element
  function unsay(kind) {
    shown.get(kind)?.remove();
    shown.delete(kind);
  }
  function say(text, level = 'warn', kind = null, { at = el, detail = null, reveal = false } = {}) {
    if (kind) unsay(kind);
    const details = [detail].flat().filter(Boolean);
    const m = h('div', { class: `msg msg-${level}`, 'data-key': kind, role: level === 'error' ? 'alert' : null },
      h('div', { class: 'msg-body' }, [text].flat().map((t) => h('span', { class: 'msg-line' }, t)),
        details.length ? h('details', { class: 'msg-detail' }, h('summary', {}, 'Details'), h('code', {}, details.join('\n'))) : null),
      h('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss', onclick: () => { if (shown.get(kind) === m) unsay(kind); else m.remove(); } }, '×'));
    at.append(m);
    if (kind) shown.set(kind, m);
    if (reveal) {
      const r = m.getBoundingClientRect?.();
      if (r && (r.top < 0 || r.bottom > innerHeight)) m.scrollIntoView({ block: 'center' });
    }
    return m;
  }
  /** A place for messages, beside a control (class: cls). */
  const place = (cls) => live(`msg-place ${cls}`);
  return { el, say, unsay, place };
}
