// unravel-explorer.d.ts: types of the <unravel-explorer> custom element
// (unravel-explorer.mjs): its attributes, its events' details, and the
// entries that make `document.querySelector('unravel-explorer')` and
// `addEventListener('unravel-result', ...)` typed. custom-elements.json says
// the same for tools that read the Custom Elements Manifest.

/** The plan on show, as the page's URL state has it. */
export interface UnravelPlan {
  /** The primary model's name (as the `model` attribute). */
  model: string;
  /** Blocks whose residual branch is deleted, ascending. */
  deleted: number[];
  /** The block at each position, or null for the original order. */
  order: number[] | null;
}

/** One block deleted alone (null numbers where it cannot be deleted: a plain net's downsampling block). */
export interface UnravelLesionBlock {
  block: number;
  stage: number;
  downsample: boolean;
  deletable: boolean;
  /** Test error with this block deleted. */
  error: number | null;
  /** error - fullError. */
  change: number | null;
  /** Half-width of the paired 95% interval of the change. */
  ci95: number | null;
  /** Answers the deletion turned wrong, and right, image by image. */
  turnedWrong: number | null;
  turnedRight: number | null;
}

/** A lesion sweep of one model, as `unravel lesion --json` prints it. */
export interface UnravelLesionNumbers {
  model: string;
  images: number;
  fullError: number;
  blocks: UnravelLesionBlock[];
}

/** Error against k random deletions or swaps: one point per k. */
export interface UnravelCurvePoint {
  k: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** One error per draw. */
  errors: number[];
  /** Swaps: mean Kendall's tau, and each draw's. */
  tau?: number;
  taus?: number[];
}

/** Path statistics (as `unravel paths --json`). */
export interface UnravelPathStats {
  n: number;
  samples: number;
  batch: number;
  seed: number;
  /** C(n,k) / 2^n per path length k. */
  distribution: number[];
  gradMean: number[];
  gradSd: number[];
  /** Share of the total gradient per path length. */
  total: number[];
  window: { a: number; b: number; q: number; mass: number; share: number };
  norms: number[][];
}

/** detail of unravel-result: which view finished, and its numbers. */
export type UnravelResultDetail =
  | { view: 'lesion' | 'depth'; images: number; models: UnravelLesionNumbers[] }
  | { view: 'delete' | 'swap'; images: number; samples: number; seed: number;
      models: { model: string; points: UnravelCurvePoint[] }[] }
  | { view: 'paths'; model: string; images: number; samples: number; seed: number; batch: number; q: number;
      stats: UnravelPathStats }
  | {
      /** The live test error of the plan on show (as `unravel eval --delete ... --order ...`). */
      view: 'network'; model: string; images: number; deleted: number[]; order: number[] | null;
      error: number; fullError: number;
      /** Paired with the full network's answers (0 for the full network itself). */
      change: number; ci95: number; turnedWrong: number; turnedRight: number;
    };

export type UnravelView = 'lesion' | 'delete' | 'swap' | 'paths' | 'depth';

/**
 * <unravel-explorer>: one view of the explorer (the block diagram, the live
 * error and one experiment) in a shadow root. Every attribute is a string, as
 * the page's URL parameter of the same name (same checks; a bad value shows a
 * message and falls back to its default); changing one rebuilds the explorer.
 *
 * Attributes: model, compare, view, images (500 | 1000 | 10000), samples,
 * seed, deleted ("3,7"), order, pbatch, q, grid, theme (auto | light | dark:
 * auto takes the host page's color-scheme); models-url (a folder),
 * data-url (test_batch.bin), wasm-url (unravel.wasm): default beside the
 * module, relative values resolved against the host document's base URL.
 *
 * Theming: --unravel-accent, --unravel-fg, --unravel-muted, --unravel-line,
 * --unravel-bg, --unravel-panel, --unravel-font (inherited); parts: network,
 * diagram, live-error, chart, controls, status, experiments.
 */
export declare class UnravelExplorer extends HTMLElement {
  static readonly observedAttributes: string[];
  /** Resolves once the model and test images are loaded (or a message explains why not). */
  readonly ready: Promise<void>;
  /** The plan on show (null until it is connected). */
  readonly plan: UnravelPlan | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'unravel-explorer': UnravelExplorer;
  }
  /** The element's events (both bubble and are composed, so a listener on document hears them). */
  interface HTMLElementEventMap {
    /** The user deleted, restored, swapped or shuffled blocks, reset the plan, or picked another model. */
    'unravel-plan-change': CustomEvent<UnravelPlan>;
    /** An experiment, or the live evaluation of the plan, finished. */
    'unravel-result': CustomEvent<UnravelResultDetail>;
  }
  /** The same events heard on document (they bubble out of the element). */
  interface DocumentEventMap {
    'unravel-plan-change': CustomEvent<UnravelPlan>;
    'unravel-result': CustomEvent<UnravelResultDetail>;
  }
}
