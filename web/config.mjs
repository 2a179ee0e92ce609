// config.mjs: every visual constant and fixed list of the page, in one place.

/** Models the page looks for under ./models/ (NAME.json + NAME.bin), in order. */
export const MODEL_CANDIDATES = Object.freeze([
  { name: 'resnet20', label: 'ResNet-20' },
  { name: 'plain20', label: 'Plain-20 (no skips)' },
  { name: 'resnet56', label: 'ResNet-56' },
  { name: 'resnet110-half', label: 'ResNet-110 (half width)' },
  { name: 'resnet110-half-k23-e160', label: 'ResNet-110 (half width), short-path training, 160 epochs (equal compute)' },
  { name: 'resnet110-half-k23', label: 'ResNet-110 (half width), short-path training, 80 epochs (equal epochs)' },
  // Random-weight development models (`unravel init`), never shipped.
  { name: 'dev-resnet20', label: 'dev ResNet-20 (random weights)', dev: true },
  { name: 'dev-plain20', label: 'dev Plain-20 (random weights)', dev: true },
  { name: 'dev-resnet110-half', label: 'dev ResNet-110 half (random weights)', dev: true },
]);

/** Where things live, relative to this module (the web root). */
export const PATHS = Object.freeze({
  models: new URL('./models/', import.meta.url).href,
  testBatch: new URL('./data/test_batch.bin', import.meta.url).href,
  wasm: new URL('./wasm/unravel.wasm', import.meta.url).href,
  worker: new URL('./worker.mjs', import.meta.url).href,
  stylesheet: new URL('./style.css', import.meta.url).href,
});

export const CIFAR = Object.freeze({
  recordBytes: 3073,
  side: 32,
  classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
});

/**
 * Worker pool: one WASM instance per worker. minChunkImages: the smallest
 * share of an evaluation or lesion study given to one worker; cancelGraceMs:
 * how long a cancelled experiment may take to stop before its worker is
 * terminated and replaced.
 */
export const POOL = Object.freeze({ maxWorkers: 4, minChunkImages: 100, cancelGraceMs: 2000 });

/** Images per C batch in the lesion study (as the CLI's default --batch). */
export const LESION_BATCH = 100;

/**
 * A lesion sweep is queued in chunks so that its chart fills in while it
 * runs: first one chunk of `first` images per worker (the 54-block net's
 * first complete chart within seconds), then whole batches.
 */
export const LESION_CHUNKS = Object.freeze({ first: 50 });

/**
 * Path statistics in the browser: draws per length come from the shared
 * "draws" control (URL samples, default 10); batch: images per draw (URL
 * pbatch); q: the share of the gradient the effective window must hold (URL q,
 * qMin..qMax; moving it re-reads the measured gradients, it runs nothing);
 * images: each draw's batch comes from the first `images` test images, the
 * pixel-exact ones (`unravel paths --limit 1000`).
 */
export const PATH_STATS = Object.freeze({ batches: [8, 16, 32, 64], batch: 16, q: 0.9, qMin: 0.5, qMax: 0.99, images: 1000 });

export const IMAGE_COUNTS = Object.freeze([500, 1000, 10000]);
// Test images fetched at start (more only when a larger count is picked):
// the 1,000 pixel-exact records, 3 MB of the 30 MB file.
export const TEST_IMAGES = Object.freeze({ first: 1000 });
export const SAMPLE_GRID = 16;   // test images shown with predicted / true labels
export const VIEWS = Object.freeze(['lesion', 'delete', 'swap', 'paths', 'depth']);

/**
 * The palette: every colour of the charts, the block tiles and the unraveled
 * diagram, in the light theme (the page's default, and docs/results' SVGs)
 * and the dark one. The page's style.css defines each as a CSS variable
 * (--ux-NAME, --ux-NAME-1.. for lists; tests/palette.test.mjs holds the two
 * to the same values), so COLORS below hands the charts
 * `var(--ux-NAME, light value)`: the page draws in its theme, Node
 * (svg.mjs toSvg) in the light one.
 */
export const PALETTE = Object.freeze({
  light: Object.freeze({
    bg: '#ffffff', ink: '#1d1d1f', muted: '#5f6368', grid: '#e6e6e6', axis: '#444444',
    chance: '#8a8a8a', window: '#F0E442', windowEdge: '#8a7a00', deleted: '#bdbdbd', chip: '#f7f7f7', chipHover: '#fdebd9',
    stageLight: ['#cfe3f1', '#f8e6c2', '#c6ebde', '#f3dcea'],
    stageText: ['#00568a', '#8a5a00', '#00704f', '#9c4a78'],   // stage names on the page's background: AA contrast
    good: '#1b7a3d', bad: '#b3261e',
  }),
  dark: Object.freeze({
    bg: '#16181d', ink: '#e6e6e9', muted: '#a9adb4', grid: '#2e3138', axis: '#a0a4ab',
    chance: '#8f949c', window: '#8f8526', windowEdge: '#d8c84a', deleted: '#5a5e66', chip: '#22252b', chipHover: '#4a3524',
    stageLight: ['#1b3144', '#3d3018', '#173d31', '#3d2535'],
    stageText: ['#56B4E9', '#E69F00', '#3fc29a', '#e0a0c8'],
    good: '#5cc47e', bad: '#f28b82',
  }),
});

const cssName = (k) => `--ux-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** The CSS variable of a palette entry (its i-th, 1-based in the name, for a list). */
export const paletteVar = (k, i) => (i == null ? cssName(k) : `${cssName(k)}-${i + 1}`);
const themed = Object.fromEntries(Object.entries(PALETTE.light).map(([k, v]) => [k, Array.isArray(v)
  ? Object.freeze(v.map((c, i) => `var(${paletteVar(k, i)}, ${c})`)) : `var(${paletteVar(k)}, ${v})`]));

/**
 * The colours the page and docs draw with. Data colours (Okabe-Ito: stages,
 * models, series; distinguishable with the common colour-vision deficiencies)
 * are the same in both themes; the others follow the theme (PALETTE).
 */
export const COLORS = Object.freeze({
  ...themed,
  stage: ['#0072B2', '#E69F00', '#009E73', '#CC79A7'],   // stage 1, 2, 3, 4
  stageInk: ['#ffffff', '#1d1d1f', '#1d1d1f', '#1d1d1f'],   // a tile's label on its stage colour: AA contrast
  resnet: '#0072B2',
  plain: '#D55E00',
  series: ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00'],   // RESULTS' models, in turn
});

/** Sizes of the charts, in the page and in docs/results alike. */
export const CHART = Object.freeze({
  width: 560,
  narrowWidth: 400,   // below 600 CSS pixels of window width; docs/results' three path panels side by side
  wideWidth: 680,     // docs/results' figures of a whole row
  height: 300,
  margin: { top: 22, right: 18, bottom: 44, left: 56 },
  fontFamily: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
  tick: 11,           // tick labels, legends, notes
  titleSize: 15,      // docs/results' titles over a chart
  bandOpacity: 0.18,
});

/** The themes the page offers (URL theme=): the system's (auto), or one chosen. */
export const THEMES = Object.freeze(['auto', 'light', 'dark']);

/** The paper's numbers (PAPER.md), shown beside ours. */
export const PAPER = Object.freeze({
  model: 'ResNet-110 (54 blocks), CIFAR-10',
  fullError: 0.061,
  vggLayerDeleted: 0.90,
  window: { a: 5, b: 17, n: 54, share: 0.004537 },
  shortPathTraining: { sampled: 0.0596, normal: 0.0610 },
});

/**
 * The landing's first chart (views/hero.mjs): each block of these networks
 * deleted in turn, cheapest first so that every column appears early; a plain
 * net, a shallow ResNet and the paper's 54 blocks (at half width).
 */
export const HERO = Object.freeze({
  networks: Object.freeze([
    { name: 'plain20', color: '#D55E00' },
    { name: 'resnet20', color: '#009E73' },
    { name: 'resnet110-half', color: '#0072B2' },
  ]),
});
