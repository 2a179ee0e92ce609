// cost.mjs: what a run of each experiment costs, in one place. The work is
// counted in image passes of the network (a pass: the whole network on one
// image), and turned into seconds on this machine by the speed the live
// evaluation measured here (ctx.speed: seconds per image in one worker), the
// workers sharing the images. No DOM.
//
// - lesion (delete one block, across depths, the landing): the full network
//   once, then each deletable block b deleted, from b on (the activations
//   before it are kept): per image 1 + Σ_b (n - b)/n passes (6 for ResNet-20's
//   9 blocks, what `unravel lesion` reports as forward equivalents);
// - random deletions / swaps (delete k, swap k): each batch's unmodified pass
//   serves every draw, and a draw runs from its first changed position only,
//   skipping the blocks it deletes (c/lesion.c plans_on_batch);
// - path statistics: samples x batch x (n + 2) (a forward pass per sample,
//   then backward passes through k of n branches, about 2k/n of a pass each).
//
// A pass inside an experiment does not cost what one of the live
// evaluation's does: a lesion sweep runs many plans per C batch (cheaper), the
// random curves run in small cooperative steps of plans x images (dearer).
// PASS is that ratio, measured on the page in Chromium on this project's
// 2-core machine (2 workers, 500 images, the machine shared): lesion 0.36
// (ResNet-110 half) / 0.44 (ResNet-20 with Plain-20), paths 0.92 / 0.94,
// random deletions 0.88 / 1.1, random swaps 0.66 / 1.3 of the formulas here
// (the JS API alone, in node, gives 0.77, 0.8, 0.3, 0.45: the page's
// cooperative steps cost the random curves most). So the estimate is "about",
// within a factor of 1.5, and the progress row goes over to the run's own
// pace a tenth of the way in.

/** Seconds of an experiment's pass per second of a live-evaluation pass (see above). */
export const PASS = Object.freeze({ lesion: 0.4, delete: 0.95, swap: 0.9, paths: 0.93 });

/** Passes per image of a lesion sweep over these blocks ({deletable} each, or a count: all deletable). */
export function lesionPasses(blocks) {
  const list = typeof blocks === 'number' ? Array.from({ length: blocks }, () => ({ deletable: true })) : blocks;
  const n = list.length;
  return 1 + list.reduce((s, b, i) => s + (b.deletable ? (n - i) / n : 0), 0);
}

/**
 * Passes per image of deleteRandom / swapRandom at these ks, `samples` draws
 * each: the unmodified pass plus each draw's expected suffix. A deletion of k
 * of the m deletable blocks runs the blocks after the first deleted one,
 * less the k - 1 others: (m - k) k / (k + 1) of them on average; a swap of k
 * pairs runs from the first of its 2k moved positions (among the m
 * swappable): n - (m - j) / (j + 1) blocks, j = min(2k, m).
 */
export function randomCurvePasses(kind, blocks, ks, samples) {
  const n = blocks.length;
  const m = blocks.filter((b) => (kind === 'swap' ? b.swappable : b.deletable)).length;
  const suffix = (k) => {
    if (k <= 0 || !m) return 0;
    if (kind === 'swap') { const j = Math.min(2 * k, m); return Math.max(0, n - (m - j) / (j + 1)); }
    const kk = Math.min(k, m);
    return (m - kk) * kk / (kk + 1);
  };
  return 1 + samples * ks.reduce((s, k) => s + suffix(k), 0) / n;
}

/**
 * Rough cost of pathStats in image passes: each sample runs a batch forward
 * once, then back-propagates through k of n residual branches for every
 * k = 0..n (about 2k/n of a pass each), so about samples x batch x (n + 2).
 */
export function pathStatsCost(n, samples, batch) {
  return samples * batch * (n + 2);
}

/** Blocks of a manifest's network: arch.blocks_per_stage is one count for every stage, or one per stage. */
export function archBlocks(arch) {
  const b = arch.blocks_per_stage;
  return Array.isArray(b) ? b.reduce((a, c) => a + c, 0) : b * arch.widths.length;
}

/**
 * Multiply-adds of one image through a manifest's network (its `arch`), as
 * unr_model_macs counts them: the stem, two 3x3 convolutions per block, a
 * 1x1 shortcut convolution where option B downsamples, the classifier.
 */
export function archMacs(arch) {
  const widths = arch.widths;
  const per = Array.isArray(arch.blocks_per_stage) ? arch.blocks_per_stage : widths.map(() => arch.blocks_per_stage);
  const stem = arch.stem_width ?? widths[0];
  let macs = 9 * 3 * stem * 32 * 32, cin = stem, side = 32;
  per.forEach((count, s) => {
    for (let i = 0; i < count; i++) {
      const down = s > 0 && i === 0;
      if (down) side /= 2;
      const px = side * side, w = widths[s];
      macs += px * 9 * cin * w + px * 9 * w * w;
      if (down && arch.shortcut === 'B') macs += px * cin * w;
      cin = w;
    }
  });
  return macs + cin * (arch.num_classes ?? 10);
}

/**
 * Seconds per image pass of a network in one worker: measured (ctx.speed)
 * where the live evaluation has run it, else scaled from a measured one by
 * multiply-adds. manifestOf(name) gives a manifest (for its arch). null while
 * nothing has been measured.
 */
export function secondsPerPass(speed, manifestOf, name) {
  if (speed[name]) return speed[name];
  const macs = (x) => { const a = manifestOf(x)?.arch; return a ? archMacs(a) : null; };
  const mine = macs(name);
  for (const [other, s] of Object.entries(speed)) {
    const theirs = macs(other);
    if (s && mine && theirs) return s * mine / theirs;
  }
  return null;
}

/**
 * Seconds a run takes here: parts [{kind, name, passes}] (passes: image
 * passes in all, e.g. lesionPasses(blocks) x images), shared by `workers`.
 * null while a speed is unknown.
 */
export function runSeconds(parts, { speed, manifestOf, workers }) {
  let s = 0;
  for (const p of parts) {
    const unit = secondsPerPass(speed, manifestOf, p.name);
    if (unit == null) return null;
    s += p.passes * unit * PASS[p.kind];
  }
  return s / Math.max(1, workers);
}
