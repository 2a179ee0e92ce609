// unravel.d.ts: types of wasm/unravel.mjs (kept in step with its JSDoc).

/** This module's version, e.g. "0.1.0" (package.json's; unravel.wasm must report the same). */
export declare const version: string;

/** CIFAR-10 class names, by label. */
export declare const CIFAR10_CLASSES: readonly string[];

/** An error from the C core (its message), or a bad argument caught in JS. */
export declare class UnravelError extends Error {
  /** 'parse' | 'field' | 'shape' | 'range' | 'checksum' | 'nonfinite' | 'plan' | 'nomem' |
   *  'cancelled' | 'unsupported' | 'argument' (JS-side check) | 'trap' (WebAssembly trap) */
  status: string;
  /** The C unr_status value, or -1. */
  code: number;
}

export interface LoadOptions {
  wasmBytes?: ArrayBuffer | ArrayBufferView;
  module?: WebAssembly.Module;
  wasmUrl?: string | URL;
  isa?: 'auto' | 'scalar' | 'wasmsimd';
}

export declare function loadUnravel(options?: LoadOptions): Promise<Unravel>;

export declare class Unravel {
  /** The version unravel.wasm reports (loadUnravel refuses one other than `version`). */
  readonly version: string;
  /** Kernels runners use: "wasmsimd" or "scalar". */
  readonly isa: string;
  readonly simd: boolean;
  /** Bytes of WASM memory now reserved (it only grows). */
  readonly memoryBytes: number;
  loadModel(manifest: string | object, weights: ArrayBuffer | ArrayBufferView,
            options?: { name?: string }): Model;
  loadCifar(bytes: ArrayBuffer | ArrayBufferView, options?: { name?: string }): CifarData;
  /** A PyTorch checkpoint (torch.save zip or legacy, or safetensors; float32), read in C
   *  without PyTorch, as `unravel import` reads it; the model's `warnings` say what was
   *  assumed (CIFAR-10's mean and std when none are given). */
  importCheckpoint(bytes: ArrayBuffer | ArrayBufferView, options?: ImportOptions): Model;
  /** mean, sd (n-1), min, max, as the C core summarises draws (unr_summarize). */
  summarize(values: ArrayLike<number>): { mean: number; sd: number; min: number; max: number };
  /** Half-width of the 95% interval of a change of error paired image by image (unr_paired_ci95). */
  pairedCi95(n: number, turnedWrong: number, turnedRight: number): number;
  /** The change from a base plan's predictions to a plan's on the same images, paired image by image. */
  pairedChange(base: ArrayLike<number>, plan: ArrayLike<number>, labels: ArrayLike<number>): PairedChange;
  /** Kendall's tau between the network order and `order` (unr_plan_kendall_tau). */
  kendallTau(order: ArrayLike<number>): number;
  /** lesionSingle results of disjoint image ranges as one call on them all: counts summed. */
  mergeLesion(parts: LesionResult[]): LesionResult;
  /** deleteRandom / swapRandom results of disjoint image ranges as one call on them all. */
  mergeCurves(parts: { points: CurvePoint[]; n: number }[]): { points: CurvePoint[]; n: number };
}

export interface PairedChange {
  n: number;
  /** Answers right under the base plan and wrong under the plan, and the reverse. */
  turnedWrong: number;
  turnedRight: number;
  /** Their image numbers. */
  wrongImages: number[];
  rightImages: number[];
  /** (turnedWrong - turnedRight) / n, and the half-width of its 95% interval. */
  change: number;
  ci95: number;
}

/** importCheckpoint's options: `unravel import`'s flags. */
export interface ImportOptions {
  /** The checkpoint's file name (default 'checkpoint'): messages name it, and the model is
   *  named after it without its extension. */
  name?: string;
  /** The model's name instead (the CLI's --name). */
  modelName?: string;
  /** Per-channel input normalisation, 0..1 pixel units; both or neither (default CIFAR-10's). */
  mean?: ArrayLike<number>;
  std?: ArrayLike<number>;
  /** auto (default): B where the checkpoint has projections, else A. */
  shortcut?: 'auto' | 'A' | 'B' | 'none';
  /** auto (default): told apart by the batch-norm shapes. */
  block?: 'auto' | 'post' | 'pre';
  /** Blocks in each stage (only for unravel's blocks.I names when the stages differ). */
  blocksPerStage?: number[];
  /** Batch-norm epsilon (default 1e-5). */
  bnEps?: number;
}

export interface BlockInfo {
  id: number;
  /** 1 .. number of stages (3, or 4 for ResNet-18/34-style nets) */
  stage: number;
  indexInStage: number;
  inShape: [number, number, number];
  outShape: [number, number, number];
  stride: 1 | 2;
  downsample: boolean;
  deletable: boolean;
  swappable: boolean;
  /** Blocks that may trade places share it (a swappable block's stage); -1: it keeps its place. */
  swapGroup: number;
}

export interface ModelInfo {
  name: string;
  depth: number;
  /** blocksPerStage: the common count, null where stages differ; stageBlocks: per stage */
  /** preactivation: pre-activation blocks (no ReLU after the sum); headBn: batch norm + ReLU
   *  before the pool; stemWidth: channels out of the stem */
  arch: { family: string; blocksPerStage: number | null; stageBlocks: number[]; widths: number[];
          stemWidth: number; preactivation: boolean; headBn: boolean;
          shortcut: 'A' | 'B' | 'none'; numClasses: number; bnEps: number };
  blocks: BlockInfo[];
  params: number;
  macs: number;
  metrics: Record<string, unknown> | null;
  training: Record<string, unknown> | null;
}

export interface PlanOptions {
  /** Block id at each position (default: network order). */
  order?: ArrayLike<number>;
  /** Deleted block ids, or one boolean per block. */
  deleted?: ArrayLike<number> | ArrayLike<boolean> | Iterable<number>;
}

export interface EvalResult {
  error: number;
  correct: number;
  n: number;
  perClass: { name: string; n: number; correct: number; error: number }[];
  /** [true][predicted] counts */
  confusion: number[][];
  seconds: number;
  /** Each image's predicted class, with `predictions: true`. */
  predictions?: Uint8Array;
}

export declare class Model {
  readonly info: ModelInfo;
  readonly numBlocks: number;
  /** What importCheckpoint assumed, one line each; empty from loadModel. */
  readonly warnings: readonly string[];
  /** unravel's own files, NAME.json + NAME.bin, as `unravel import` writes them;
   *  loadModel(manifest, weights) loads them back. */
  serialize(options?: { name?: string; weightsFile?: string }): { manifest: string; weights: Uint8Array };
  evaluate(data: CifarData, options?: PlanOptions & {
    limit?: number; batch?: number; predictions?: boolean;
    onProgress?: (done: number, total: number) => boolean | void;
  }): EvalResult;
  /** Logits [count * 10], row-major. */
  forward(data: CifarData, options?: PlanOptions & { start?: number; count?: number; batch?: number }): Float32Array;
  validatePlan(plan: PlanOptions): void;
  /** Error with each block deleted alone, on top of an optional base plan. */
  lesionSingle(data: CifarData, options?: PlanOptions & ExperimentOptions & { limit?: number; batch?: number }): Promise<LesionResult>;
  /** Error after deleting k random blocks, for each k in ks (default 0..maxDeletions); samples,
   *  seed and batch default to the CLI's (10, 1, 100), as for swapRandom. */
  deleteRandom(data: CifarData, options?: RandomCurveOptions): Promise<{ points: CurvePoint[]; n: number }>;
  /** Error after k random same-stage swaps, with Kendall's tau. */
  swapRandom(data: CifarData, options?: RandomCurveOptions): Promise<{ points: CurvePoint[]; n: number }>;
  readonly maxDeletions: number;
  readonly maxSwaps: number;
  /** The plan the CLI draws for (kind, k, seed, sample). */
  drawPlan(kind: 'delete' | 'swap', k: number, seed: number, sample: number): { order: number[]; deleted: number[]; tau: number };
  /** Path lengths, gradient norm per path length, effective window. Options left out take
   *  `unravel paths`'s defaults (c/experiments.c): 100 samples of 32 images, q 0.9, 1000
   *  bootstrap resamples, seed 1. */
  pathStats(data: CifarData, options?: ExperimentOptions & { samples?: number; seed?: number; batch?: number; q?: number; limit?: number; firstSample?: number; bootstrap?: number }): Promise<PathStats>;
  /** PathStats from measurements norms[length][sample], e.g. merged from workers. */
  pathSummary(norms: number[][], options?: { q?: number; seed?: number; batch?: number; bootstrap?: number }): PathStats;
  dispose(): void;
}

export interface ExperimentOptions {
  /** Return true to cancel. */
  onProgress?: (done: number, total: number) => boolean | void;
  signal?: AbortSignal;
}

export interface RandomCurveOptions extends ExperimentOptions {
  ks?: number[]; samples?: number; seed?: number; limit?: number; batch?: number;
}

export interface LesionResult {
  n: number;
  /** correct: right answers of the base plan. */
  full: { error: number; correct: number };
  blocks: {
    block: number; stage: number; downsample: boolean; deletable: boolean; error: number | null;
    /** Deletable blocks: answers the deletion turned wrong and right, image by image, and the
     *  half-width of a 95% interval on the change of error (paired); its right answers. */
    turnedWrong?: number; turnedRight?: number; ci95?: number; correct?: number;
  }[];
  /** blocksRun / batches / blocks. */
  forwardEquivalents: number;
  /** Block evaluations, and the C batches they ran in. */
  blocksRun: number;
  batches: number;
}

export interface CurvePoint {
  k: number; mean: number; sd: number; min: number; max: number;
  /** Mean Kendall's tau (swaps only). */
  tau?: number;
  /** Kendall's tau of each draw (swaps only). */
  taus?: number[];
  errors: number[];
  /** Right answers of each draw: errors = 1 - correct / n. */
  correct: number[];
}

export interface PathStats {
  n: number; samples: number; batch: number; seed: number;
  /** C(n,k) / 2^n */
  distribution: number[];
  gradMean: number[];
  gradSd: number[];
  /** Share of the total gradient C(n,k) g_k per length. */
  total: number[];
  window: { a: number; b: number; q: number; mass: number; share: number; bootstrap?: WindowSpread };
  /** Every measurement, [length][sample]. */
  norms: number[][];
}

/** How far the effective window moves with the draws: over `resamples`
 * bootstrap resamples of the samples, the central 95% (level) of the
 * windows' ends a and b and of their share of all paths, and the fraction of
 * resamples whose window is the one of all samples (same). */
export interface WindowSpread {
  resamples: number; level: number;
  a: [number, number]; b: [number, number]; share: [number, number];
  same: number;
}

export declare class CifarData {
  readonly n: number;
  readonly labels: Uint8Array;
  /** 32x32 RGBA, ready for new ImageData(pixels, 32, 32). */
  image(i: number): Uint8ClampedArray;
  dispose(): void;
}
