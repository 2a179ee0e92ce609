// unraveled.mjs: the unraveled view, interactively, for three blocks.
// y3 = y2 + f3(y2), y2 = y1 + f2(y1), y1 = y0 + f1(y0): expanding gives 8
// paths from input to output, each taking at every block either the skip or
// the residual branch f_i. Hover a path to trace it; click a block to delete
// it and watch the paths through its branch disappear (half of them).
import { COLORS } from './config.mjs';
import { el, text, choosable, mount, toDom, setAttr } from './svg.mjs';

export function createUnraveledDiagram(container) {
  const W = 520, H = 262;
  // a group, not an image: its blocks are buttons (choosable)
  const rootAttrs = { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'group',
                      'aria-label': 'three residual blocks unraveled into eight paths',
                      'font-family': 'system-ui, sans-serif', class: 'unraveled' };
  const svg = container.appendChild(toDom(el('svg', rootAttrs)));
  const deleted = new Set();
  let hover = -1;
  const n = 3;
  const paths = Array.from({ length: 8 }, (_, p) => [0, 1, 2].map((i) => (p >> (n - 1 - i)) & 1));
  const xs = [40, 180, 320, 460];   // input, after blocks 1..3
  const yTop = 60, laneGap = 16;

  // the diagram is a tree (svg.mjs) mounted whole; hover repaints the mounted paths and chips
  function render() {
    const root = el('svg', rootAttrs);
    text(root, 10, 18, 'Three residual blocks = 2³ = 8 paths. Hover a path; click a block to delete it.',
         { 'font-size': 12, fill: COLORS.muted });
    // blocks: residual branch boxes above the skip line
    for (let i = 0; i < n; i++) {
      const cx = (xs[i] + xs[i + 1]) / 2;
      const g = el('g', { class: 'ublock', 'data-block': i, 'aria-pressed': deleted.has(i) ? 'true' : 'false' }, root);
      el('rect', { x: cx - 28, y: yTop - 22, width: 56, height: 28, rx: 6,
                   fill: deleted.has(i) ? COLORS.chip : COLORS.stageLight[0],
                   stroke: deleted.has(i) ? COLORS.deleted : COLORS.stage[0], 'stroke-width': 1.5,
                   'stroke-dasharray': deleted.has(i) ? '4 3' : null }, g);
      text(g, cx, yTop - 3, `f${i + 1}`, { 'text-anchor': 'middle', 'font-size': 14, 'font-style': 'italic',
                                         fill: deleted.has(i) ? COLORS.deleted : COLORS.ink });
      // pressed = deleted; render() replaces every element, so the focus moves to the new block
      choosable(g, `Delete block ${i + 1} (f${i + 1})`, (e) => {
        const focused = e.currentTarget.matches(':focus');
        deleted.has(i) ? deleted.delete(i) : deleted.add(i);
        render();
        if (focused) svg.querySelector(`.ublock[data-block="${i}"]`).focus();
      });
    }
    text(root, xs[0] - 8, yTop + 26, 'x', { 'text-anchor': 'end', 'font-size': 13 });
    text(root, xs[3] + 8, yTop + 26, 'y', { 'font-size': 13 });
    // paths: each a lane; branch segments rise to the box, skips stay low
    const alive = paths.map((bits) => bits.every((b, i) => !(b && deleted.has(i))));
    paths.forEach((bits, p) => {
      const lane = yTop + 20 + p * laneGap * 0.55;
      let d = `M${xs[0]},${lane}`;
      bits.forEach((b, i) => {
        const x0 = xs[i], x1 = xs[i + 1], cx = (x0 + x1) / 2;
        d += b ? ` C${x0 + 20},${lane} ${cx - 30},${yTop - 8} ${cx},${yTop - 8} S${x1 - 20},${lane} ${x1},${lane}`
               : ` L${x1},${lane}`;
      });
      el('path', { d, fill: 'none', 'stroke-dasharray': alive[p] ? null : '3 3', class: 'upath', 'data-path': p }, root);
    });
    // the list of paths, as chips
    const y0 = 180;
    paths.forEach((bits, p) => {
      const x = 14 + (p % 4) * 128, y = y0 + Math.floor(p / 4) * 34;
      const len = bits.reduce((a, b) => a + b, 0);
      const g = el('g', { class: 'chip', cursor: 'default' }, root);
      el('rect', { x, y, width: 120, height: 26, rx: 5, fill: COLORS.chip,
                   stroke: alive[p] ? COLORS.grid : COLORS.deleted, 'stroke-dasharray': alive[p] ? null : '3 3' }, g);
      const label = bits.map((b, i) => (b ? `f${i + 1}` : '·')).join(' ');
      text(g, x + 8, y + 17, label, { 'font-size': 12, 'font-family': 'ui-monospace, monospace',
                                      fill: alive[p] ? COLORS.ink : COLORS.deleted,
                                      'text-decoration': alive[p] ? null : 'line-through' });
      text(g, x + 112, y + 17, `len ${len}`, { 'text-anchor': 'end', 'font-size': 11, fill: COLORS.muted });
      g.on = { mouseenter: () => { hover = p; paint(alive); }, mouseleave: () => { hover = -1; paint(alive); } };
    });
    const nAlive = alive.filter(Boolean).length;
    text(root, 14, H - 6, `${nAlive} of 8 paths remain` +
         (deleted.size ? ` after deleting ${deleted.size} block${deleted.size > 1 ? 's' : ''}: each deletion halves them.` : '.'),
         { 'font-size': 12, fill: COLORS.ink, class: 'paths-alive' });
    mount(svg, root);
    paint(alive);
  }
  // hover changes only colours and order, so the elements under the pointer stay put
  function paint(alive) {
    const lines = [...svg.querySelectorAll('.upath')], chips = [...svg.querySelectorAll('.chip rect')];
    lines.forEach((path, p) => {
      const on = hover === p;
      setAttr(path, 'stroke', alive[p] ? (on ? COLORS.plain : COLORS.resnet) : COLORS.deleted);
      path.setAttribute('stroke-width', on ? 3 : 1.4);
      path.setAttribute('opacity', alive[p] ? (hover < 0 || on ? 0.9 : 0.25) : 0.35);
      if (on) svg.insertBefore(path, chips[0].parentNode);   // draw on top of the other paths
    });
    chips.forEach((r, p) => setAttr(r, 'fill', hover === p ? COLORS.chipHover : COLORS.chip));
  }
  render();
  return { reset() { deleted.clear(); hover = -1; render(); } };
}
