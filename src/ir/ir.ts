/**
 * The layer IR: the single source of truth that the cost model and the code generator
 * both walk, so the audit's parameter count and the tfjs model's countParams() can only
 * agree. Shapes omit the batch dimension (NHWC: [height, width, channels], or [units]).
 * Layer names follow the Keras reference (applications/efficientnet.py): `stem_conv`,
 * `block2a_expand_conv`, `block2a_se_reduce`, `top_conv`, `predictions`.
 */
import type {
  Convention,
  ConventionName,
  PaddingRuleName,
  PreprocessingName,
  WindowPaddingName,
} from "../vocabulary/conventions.ts";

export type Shape = readonly number[];

import type { Activation } from "../vocabulary/activations.ts";

export type { Activation };

export interface Weight {
  /** Keras's weight name: kernel, bias, gamma, beta, moving_mean, moving_variance, depthwise_kernel. */
  readonly name: string;
  readonly shape: Shape;
  readonly trainable: boolean;
}

export type Padding = "same" | "valid";

/** One table row per layer kind's attributes; the kinds are listed in primitives.ts. */
export interface LayerAttrs {
  input: { readonly shape: Shape };
  /** `x · scale + offset` (Keras Rescaling): pixels [0, 255] → [0, 1]. */
  rescaling: { readonly scale: number; readonly offset: number };
  /**
   * Per-channel `(x − mean) / std`. `stored`: mean, variance and count are non-trainable
   * weights, as Keras's Normalization keeps them (7 parameters for RGB); otherwise constants.
   */
  normalization: { readonly mean: readonly number[]; readonly std: readonly number[]; readonly stored: boolean };
  /**
   * Explicit zero padding before a `valid` strided window ([[top, bottom], [left, right]] at
   * the IR's resolution). `rule` says how to recompute it for another input size
   * (src/vocabulary/conventions.ts, WINDOW_PADDINGS: the spec's padding rule's entry for
   * this window), `kernel` for which window.
   */
  zeroPadding2d: {
    readonly padding: readonly [readonly [number, number], readonly [number, number]];
    readonly rule: WindowPaddingName;
    readonly kernel: number;
  };
  conv2d: {
    readonly filters: number;
    readonly kernel: number;
    readonly strides: number;
    readonly padding: Padding;
    readonly useBias: boolean;
    readonly activation: Activation;
    /** Input and output channels split into this many groups (the kernel is [k, k, in / groups, out]). */
    readonly groups: number;
  };
  depthwiseConv2d: {
    readonly kernel: number;
    readonly strides: number;
    readonly padding: Padding;
    readonly depthMultiplier: number;
    readonly useBias: boolean;
  };
  batchNorm: { readonly momentum: number; readonly epsilon: number };
  activation: { readonly activation: Activation };
  globalAvgPool: { readonly keepDims: boolean };
  maxPool: { readonly pool: number; readonly strides: number; readonly padding: Padding };
  reshape: { readonly targetShape: Shape };
  multiply: Record<string, never>;
  add: Record<string, never>;
  /** `perSample` drops whole examples' residual branches: drop connect / stochastic depth. */
  dropout: { readonly rate: number; readonly perSample: boolean };
  dense: { readonly units: number; readonly useBias: boolean; readonly activation: Activation };
}

export type LayerKind = keyof LayerAttrs;

/**
 * Each layer kind's Keras class name (keras.layers), the names users know from
 * `model.summary()`; the audit's layer summary prints these. One entry per kind.
 */
export const KERAS_CLASS: { readonly [K in LayerKind]: string } = {
  input: "InputLayer",
  conv2d: "Conv2D",
  depthwiseConv2d: "DepthwiseConv2D",
  batchNorm: "BatchNormalization",
  activation: "Activation",
  globalAvgPool: "GlobalAveragePooling2D",
  maxPool: "MaxPooling2D",
  reshape: "Reshape",
  multiply: "Multiply",
  add: "Add",
  dropout: "Dropout",
  dense: "Dense",
  rescaling: "Rescaling",
  normalization: "Normalization",
  zeroPadding2d: "ZeroPadding2D",
};

interface LayerOf<K extends LayerKind> {
  readonly kind: K;
  readonly name: string;
  /** Names of the layers whose outputs this layer consumes, in order. */
  readonly inputs: readonly string[];
  readonly outputShape: Shape;
  readonly weights: readonly Weight[];
  readonly attrs: LayerAttrs[K];
  /** 1-based index of the stage (row of the stage table) this layer was lowered from; 0 for the input. */
  readonly stage: number;
  /** 0-based repeat of the stage's operator (Keras's block letter a, b, …) this layer was lowered from. */
  readonly block: number;
}

export type Layer = { [K in LayerKind]: LayerOf<K> }[LayerKind];

export interface NetworkIR {
  readonly network: string;
  readonly variant: string;
  readonly inputShape: Shape;
  readonly classes: number;
  /** The conventions the layers were built with (src/vocabulary/conventions.ts), as the spec resolved them. */
  readonly convention: {
    readonly name: ConventionName;
    readonly padding: PaddingRuleName;
    readonly preprocessing: PreprocessingName;
    readonly classifierActivation: Convention["classifierActivation"];
  };
  /** Topologically ordered: every layer comes after its inputs. */
  readonly layers: readonly Layer[];
  readonly output: string;
}

export function elements(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}
