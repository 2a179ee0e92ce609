// blocks.mjs: the block diagram. One tile per residual block, in plan order,
// coloured by stage. Click a tile to delete / restore its residual branch;
// drag a tile onto another (or use its arrow buttons) to swap two
// non-downsampling blocks of the same stage. Plain-network downsampling
// blocks are locked. The diagram holds no model code: it reports a new plan
// through onChange({order, deleted}).
import { COLORS } from './config.mjs';

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style' && typeof v === 'object')
      for (const [prop, val] of Object.entries(v)) e.style.setProperty(prop, val);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids) if (kid != null) e.append(kid);
  return e;
}

/**
 * @param {HTMLElement} container
 * @param {{onChange: (plan: {order: number[], deleted: number[]}) => void}} options
 */
export function createBlockDiagram(container, { onChange }) {
  const root = h('div', { class: 'blocks', role: 'group', 'aria-label': 'residual blocks' });
  // what a click on the diagram did ("block 3 deleted"), for screen readers
  const said = h('span', { class: 'visually-hidden', role: 'status' });
  container.append(root, said);
  let blocks = [];
  let order = [];
  let deleted = new Set();
  let dragFrom = -1;

  const emit = () => onChange({ order: order.slice(), deleted: [...deleted].sort((a, b) => a - b) });

  // positions p and q may trade blocks where the model puts them in one swap
  // group (BlockInfo.swapGroup, C's rule: same stage, not downsampling)
  function canSwap(p, q) {
    const a = blocks[p], b = blocks[q];   // shapes at positions p and q
    return p !== q && a.swapGroup >= 0 && a.swapGroup === b.swapGroup;
  }

  function swap(p, q) {
    if (!canSwap(p, q)) return;
    [order[p], order[q]] = [order[q], order[p]];
    render();
    said.textContent = `blocks ${order[q]} and ${order[p]} swapped`;
    emit();
  }

  function toggle(id) {
    deleted.has(id) ? deleted.delete(id) : deleted.add(id);
    render();
    said.textContent = `block ${id} ${deleted.has(id) ? 'deleted' : 'restored'}`;
    emit();
  }

  function neighbour(p, dir) {
    for (let q = p + dir; q >= 0 && q < blocks.length; q += dir)
      if (canSwap(p, q)) return q;
    return -1;
  }

  // The diagram is redrawn on every plan change: a control that had the focus
  // (a block's toggle, or its arrow, which follows the block it moved) gets it
  // back, so Enter / Space again acts on the same block and the focus does not
  // fall to the page.
  function render() {
    const active = root.getRootNode().activeElement;
    const focusKey = active && root.contains(active) ? active.dataset.focus : null;
    draw();
    if (!focusKey) return;
    const [what, id] = focusKey.split(':');
    const find = (w) => root.querySelector(`[data-focus="${w}:${id}"]:not(:disabled)`);
    const other = { left: 'right', right: 'left', toggle: 'toggle' }[what];
    (find(what) ?? find(other) ?? find('toggle'))?.focus({ preventScroll: true });
  }

  function draw() {
    root.replaceChildren();
    root.classList.toggle('many', blocks.length > 27);
    root.append(h('div', { class: 'tile fixed', title: 'stem: 3x3 conv, batch norm, ReLU' }, h('span', { class: 'id' }, 'stem')));
    let stageEl = null, stage = 0;
    blocks.forEach((pos, p) => {
      if (pos.stage !== stage) {
        stage = pos.stage;
        stageEl = h('div', { class: 'stage', style: { '--stage': COLORS.stage[stage - 1], '--stage-light': COLORS.stageLight[stage - 1],
                                             '--stage-ink': COLORS.stageInk[stage - 1] } },
          h('div', { class: 'stage-label' }, `stage ${stage} · ${pos.outShape[2]} ch · ${pos.outShape[0]}×${pos.outShape[1]}`),
          h('div', { class: 'stage-tiles' }));
        root.append(stageEl);
      }
      const id = order[p];
      const b = blocks[id];
      const isDel = deleted.has(id);
      const moved = id !== p;
      const label = `block ${id}${moved ? ` (moved to position ${p})` : ''}` +
        `${pos.downsample ? ', downsampling' : ''}${!b.deletable ? ', cannot be deleted (no shortcut)' : ''}` +
        `${isDel ? ', deleted' : ''}`;
      const tile = h('div', {
        class: `tile${isDel ? ' deleted' : ''}${pos.downsample ? ' down' : ''}${!b.deletable ? ' locked' : ''}${moved ? ' moved' : ''}`,
        'data-block': id, 'data-pos': p, draggable: pos.swappable ? 'true' : null,
        ondragstart: (e) => { dragFrom = p; e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', String(p)); },
        ondragover: (e) => { if (dragFrom >= 0 && canSwap(dragFrom, p)) { e.preventDefault(); tile.classList.add('drop'); } },
        ondragleave: () => tile.classList.remove('drop'),
        ondrop: (e) => { e.preventDefault(); tile.classList.remove('drop'); const from = dragFrom; dragFrom = -1; swap(from, p); },
        ondragend: () => { dragFrom = -1; },
      },
      h('button', {
        class: 'toggle', type: 'button', 'aria-pressed': isDel ? 'true' : 'false', 'aria-label': label, title: label,
        disabled: !b.deletable, 'data-focus': `toggle:${id}`,
        onclick: () => { if (b.deletable) toggle(id); },
      }, h('span', { class: 'id' }, String(id)), pos.downsample ? h('span', { class: 'mark' }, b.deletable ? '↓2' : '↓2 fixed') : null),
      pos.swappable ? h('div', { class: 'arrows' }, arrow(p, id, -1), arrow(p, id, 1)) : null);
      stageEl.querySelector('.stage-tiles').append(tile);
    });
    root.append(h('div', { class: 'tile fixed', title: 'global average pool, linear layer to 10 classes' }, h('span', { class: 'id' }, 'fc')));
  }

  // ‹ or ›: swap the block at position p with its neighbour of the same stage
  function arrow(p, id, dir) {
    const q = neighbour(p, dir);
    const label = q < 0 ? `swap block ${id} ${dir < 0 ? 'left' : 'right'} (none of its stage there)` : `swap block ${id} with block ${order[q]}`;
    return h('button', { type: 'button', class: 'arrow', title: label, 'aria-label': label, disabled: q < 0,
                         'data-focus': `${dir < 0 ? 'left' : 'right'}:${id}`, onclick: () => swap(p, q) }, dir < 0 ? '‹' : '›');
  }

  return {
    /** @param {import('./wasm/unravel.mjs').BlockInfo[]} b */
    setModel(b) { blocks = b; order = b.map((x) => x.id); deleted = new Set(); render(); },
    setPlan(plan) {
      order = plan.order.slice();
      deleted = new Set(plan.deleted);
      render();
    },
    get plan() { return { order: order.slice(), deleted: [...deleted].sort((a, b) => a - b) }; },
    reset() { blocks = []; order = []; deleted = new Set(); root.replaceChildren(); said.textContent = ''; },
  };
}
