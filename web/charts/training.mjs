// training.mjs: error during training. trainingChart: one network's training
// log against epochs (the model cards, scripts/model-card.mjs);
// trainingCompareChart: several networks against the compute spent so far,
// a panel for training error and one for test error (claim 7's pairs in
// docs/RESULTS.md). Lines on lineChart's axes (line.mjs).
import { CHART, COLORS } from '../config.mjs';
import { niceTicks, row } from '../svg.mjs';
import { lineChart, errorAxis } from './line.mjs';

/**
 * @param {{epoch: number, train_error?: number, test_error?: number, test_error_exact_0_999?: number}[]} log
 *   the trainer's JSON lines
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object}} [o]
 */
export function trainingChart(log, o = {}) {
  const last = Math.max(...log.map((e) => e.epoch));
  const keys = [
    { key: 'train_error', name: 'training batches (augmented)', color: COLORS.series[2] },
    { key: 'test_error', name: 'test, rebuilt 10,000', color: COLORS.series[0] },
    { key: 'test_error_exact_0_999', name: 'test, pixel-exact 0-999', color: COLORS.series[1] },
  ];
  // The first epochs' errors would squash the rest: the axis ends at 2.5x the
  // final test errors, and the early part of the curves runs off the top.
  const end = log[log.length - 1];
  const Y = errorAxis(Math.min(Math.max(...log.flatMap((e) => keys.map((s) => e[s.key] ?? 0))),
    2.5 * Math.max(end.test_error ?? 0, end.test_error_exact_0_999 ?? 0, 0.04)));
  return lineChart({ series: keys.map((s) => ({ name: s.name, color: s.color,
    points: log.filter((e) => e[s.key] != null).map((e) => ({ x: e.epoch, y: e[s.key] })) })) }, {
    id: o.id ?? 'train', width: o.width ?? CHART.wideWidth, height: o.height, heading: o.heading,
    title: o.title ?? 'Error during training', description: 'Error against epoch: training batches, the test images.',
    x: { lo: 0, hi: last, ticks: niceTicks(0, last, 8).filter((t) => t <= last) }, y: Y,
    xLabel: 'epoch', yLabel: 'error', markers: false,
  });
}

/**
 * @param {{series: {name: string, color: string, log: object[], macsPerEpoch: number}[]}} data
 * @param {{unit?: number, id?: string, xLabel?: string, width?: number, height?: number}} [o] x: training
 *   multiply-adds so far, in units of o.unit (e.g. the twin's whole run)
 */
export function trainingCompareChart(data, o = {}) {
  const unit = o.unit ?? 1;
  const panel = (key, title) => {
    const pts = (s) => s.log.filter((e) => e[key] != null).map((e) => ({ x: (e.epoch * s.macsPerEpoch) / unit, y: e[key] }));
    const ends = data.series.map((s) => pts(s).at(-1)?.y ?? 0);
    const hi = Math.max(...data.series.map((s) => pts(s).at(-1)?.x ?? 0));
    return lineChart({ series: data.series.map((s) => ({ name: `${s.name}: ${pct(pts(s).at(-1)?.y)}`, color: s.color, points: pts(s) })) }, {
      id: `${o.id ?? 'tc'}-${key}`, width: o.width ?? 460, height: o.height ?? CHART.height + 20, heading: { title },
      title, description: `${title} against training compute.`,
      x: { lo: 0, hi, ticks: niceTicks(0, hi, 6).filter((t) => t <= hi) }, y: errorAxis(Math.min(1, 2.5 * Math.max(...ends, 0.04))),
      xLabel: o.xLabel ?? 'training multiply-adds', yLabel: 'error', markers: false,
    });
  };
  return row([panel('train_error', 'training error (batches as trained)'), panel('test_error', 'test error (rebuilt 10,000)')]);
}

const pct = (v) => (v == null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
