// checkpoint-form.mjs: the small form beside "Your files…" that a PyTorch
// checkpoint (.pt, .pth, .th, .safetensors) brings up. A state dict holds no
// input normalisation, so the page asks for the mean and std the network was
// trained with (prefilled with CIFAR-10's) and the shortcut (auto: read off the
// tensors; a plain network has none to tell it by), then hands them to
// onImport. DOM only: app.mjs imports the file in a worker and shows messages.
import { h } from './ui.mjs';
import { normProblem } from './file-messages.mjs';

// CIFAR-10's, as c/checkpoint.c assumes them without a mean and std.
export const CIFAR10_MEAN = '0.4914, 0.4822, 0.4465';
export const CIFAR10_STD = '0.2470, 0.2435, 0.2616';

/** "0.49, 0.48 0.45": three finite numbers (std: each above 0), or null. */
export function parseTriple(text, positive = false) {
  const parts = String(text).trim().split(/[\s,;]+/).filter(Boolean);
  if (parts.length !== 3) return null;
  const v = parts.map(Number);
  return v.every((x) => Number.isFinite(x) && Math.abs(x) < 1e3 && (!positive || x > 0)) ? v : null;
}

/**
 * @param {{onImport: (file: File, options: {mean: number[], std: number[], shortcut: string}) => void,
 *          onProblem: (problem: {text: string}) => void}} o
 * @returns {{el: HTMLElement, show: (file: File) => void, hide: () => void, busy: (on: boolean) => void}}
 */
export function createCheckpointForm({ onImport, onProblem }) {
  let file = null;
  const title = h('span', { class: 'ckpt-title' });
  const mean = h('input', { name: 'mean', type: 'text', value: CIFAR10_MEAN, size: 20, spellcheck: 'false',
                            'aria-label': 'mean per channel (red, green, blue), 0..1 pixel units' });
  const std = h('input', { name: 'std', type: 'text', value: CIFAR10_STD, size: 20, spellcheck: 'false',
                           'aria-label': 'standard deviation per channel (red, green, blue), 0..1 pixel units' });
  const shortcut = h('select', { name: 'shortcut', 'aria-label': 'shortcut' },
    h('option', { value: 'auto' }, 'auto'),
    h('option', { value: 'A' }, 'A (zero padding)'),
    h('option', { value: 'B' }, 'B (projections)'),
    h('option', { value: 'none' }, 'none (a plain net)'));
  const submit = h('button', { type: 'submit', class: 'ckpt-import' }, 'Import');
  const cancel = h('button', { type: 'button', class: 'ckpt-cancel', onclick: () => hide() }, 'Cancel');
  const el = h('form', { class: 'ckpt-form', hidden: true, 'aria-label': 'import a PyTorch checkpoint' },
    title,
    h('span', { class: 'ckpt-note' }, 'the input normalisation it was trained with, which a checkpoint does not hold (CIFAR-10\'s filled in):'),
    h('label', {}, 'mean ', mean), h('label', {}, 'std ', std), h('label', {}, 'shortcut ', shortcut),
    submit, cancel);
  el.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!file) return;
    const m = parseTriple(mean.value), s = parseTriple(std.value, true);
    if (!m) { onProblem(normProblem('mean', mean.value)); mean.focus(); return; }
    if (!s) { onProblem(normProblem('std', std.value)); std.focus(); return; }
    onImport(file, { mean: m, std: s, shortcut: shortcut.value });
  });
  function show(f) {
    file = f;
    title.textContent = `Import ${f.name}:`;
    el.hidden = false;
    busy(false);
    mean.focus({ preventScroll: true });
  }
  function hide() {
    file = null;
    el.hidden = true;
  }
  function busy(on) {
    for (const c of [mean, std, shortcut, submit]) c.disabled = on;
    submit.textContent = on ? 'Importing…' : 'Import';
  }
  return { el, show, hide, busy };
}
