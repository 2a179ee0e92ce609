// paper-tables.mjs: the "Ours beside the paper" tables of the experiment
// views, as rows of [what, this page, the paper] (PAPER.md's numbers), and
// the note under the paths table on why a smaller or larger network's
// numbers differ from the paper's. No DOM: app.mjs renders the rows.
import { PAPER } from './config.mjs';
import { pct, pathShare, sup, span, decayFit } from './math.mjs';
import { fmtShare } from './charts/grad-total.mjs';

/**
 * Single-block lesions: the full network and the range of errors with one
 * block deleted, per model (plain networks against the paper's VGG layer).
 * @param {{name: string, result: object|null}[]} parts
 * @param {(name: string) => boolean} isPlain
 */
export function lesionRows(parts, isPlain) {
  const rows = [];
  for (const p of parts) {
    const r = p.result;
    if (!r) continue;
    const plain = isPlain(p.name);
    const dels = r.blocks.filter((b) => b.deletable && b.error != null);
    const nd = dels.filter((b) => !b.downsample), dn = dels.filter((b) => b.downsample);
    const range = (xs) => (xs.length ? `${pct(Math.min(...xs.map((b) => b.error)))} – ${pct(Math.max(...xs.map((b) => b.error)))}` : 'n/a');
    rows.push([`${p.name}: full network`, pct(r.full?.error), plain ? '–' : `about ${pct(PAPER.fullError)}`]);
    if (plain) rows.push([`${p.name}: delete one block`, range(dels), `about ${pct(PAPER.vggLayerDeleted, 0)} (one layer of VGG-15)`]);
    else {
      rows.push([`${p.name}: delete one non-downsampling block`, range(nd), 'no noticeable change']);
      // "noticeable", measured: is the change more than its paired 95% interval?
      const measured = nd.filter((b) => b.ci95 != null);
      if (measured.length) {
        const quiet = measured.filter((b) => Math.abs(b.error - r.full.error) <= b.ci95).length;
        rows.push([`${p.name}: of those, changes within the noise (95%, paired, ${r.n.toLocaleString('en-US')} images)`,
                   `${quiet} of ${measured.length}`, 'all (no noticeable change)']);
      }
      rows.push([`${p.name}: delete one downsampling block`, range(dn), 'modest increase']);
    }
  }
  return rows;
}

/** k-curves ('delete' or 'swap'): the mean error at the first and last k, per model. */
export function kRows(v, series) {
  return series.map((s) => {
    const last = s.points[s.points.length - 1];
    const first = s.points[0];
    const tail = v === 'swap' && last?.tau != null ? ` (tau ${last.tau.toFixed(2)})` : '';
    return [`${s.name}: error from k = ${first?.k} to k = ${last?.k}${tail}`, `${pct(first?.mean)} → ${pct(last?.mean)}`,
      v === 'delete' ? 'smooth increase with k (plotted to k ≈ 20 of 54)' : "smooth increase as Kendall's tau falls"];
  });
}

/**
 * Paths: blocks and paths, the effective window, its share of paths and how
 * firm it is (r: model.pathStats' result, or null before a run).
 */
export function pathsRows(r, n, plain) {
  const rows = [['blocks n, paths', plain ? `${n}, 1 (plain)` : `${n}, 2${sup(n)}`, `54, 2${sup(54)}`]];
  if (r?.window) {
    rows.push([`effective window (q = ${r.window.q})`, `lengths ${r.window.a}–${r.window.b}`, `lengths ${PAPER.window.a}–${PAPER.window.b}`]);
    rows.push(['share of all paths in the window', fmtShare(r.window.share), fmtShare(PAPER.window.share)]);
    const bs = r.window.bootstrap;
    if (bs)
      rows.push([`how firm the window is (${bs.resamples.toLocaleString('en-US')} resamples of the ${r.samples} draws)`,
                 `the same window in ${Math.round(100 * bs.same)}%; 95% start at ${span(bs.a)} and end at ${span(bs.b)}`,
                 'not reported']);
    rows.push(['mean path length n/2', String(n / 2), '27']);
  } else {
    rows.push(['effective window', plain ? '–' : 'run to measure', `lengths ${PAPER.window.a}–${PAPER.window.b}, ${fmtShare(pathShare(54, 5, 17))} of paths`]);
  }
  return rows;
}

/**
 * Why an n-block residual network's window need not be the paper's, and,
 * once measured (gradMean per length), whether its gradient falls with
 * length as the paper's does.
 */
export function pathsNote(n, untrained, gradMean = null) {
  const size = n < 54
    ? `This network is smaller than the paper's (n = ${n} blocks against 54): expect its window at shorter lengths ` +
      'and, with far fewer paths in all, holding a larger share of them. '
    : n === 54
      ? 'This network has the paper\'s 54 blocks (2^54 paths), so its window can be set beside the paper\'s 5–17 directly; ' +
        'its error and width may still differ. '
      : `This network is deeper than the paper's (n = ${n} blocks against 54). `;
  const fit = gradMean ? decayFit(gradMean) : null;
  const here = !fit ? ''
    : fit.factor < 1
      ? ` Here the gradient norm falls by a factor ${fit.factor.toFixed(2)} per extra branch on the path (a line through its ` +
        `logarithm, R² = ${fit.r2.toFixed(2)}${fit.r2 > 0.9 ? ': close to exponential, as in the paper' : ': not a clean exponential'}).`
      : ` Here it does not fall with length (factor ${fit.factor.toFixed(2)} per extra branch on a line through its logarithm): ` +
        'unlike the paper, whose 54-block network shows the decay; more draws (and a deeper network) tell more.';
  return size + 'What should carry over is the shape: an exponential decay per length and a window below the mean length n/2.' +
    here + (untrained ? ' This model has no training record (random weights?): the decay is a property of trained networks, so do not expect it here.' : '');
}
