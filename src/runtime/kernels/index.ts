/**
 * Training kernels for the tfjs backends effnet trains on.
 *
 * Why: a training step of a MobileNet/EfficientNet-style net differentiates
 * conv2d and depthwiseConv2d. tfjs-core's gradients (Conv2D_grad,
 * DepthwiseConv2dNative_grad) dispatch to the kernels
 *   Conv2DBackpropInput, Conv2DBackpropFilter,
 *   DepthwiseConv2dNativeBackpropInput, DepthwiseConv2dNativeBackpropFilter.
 * In @tensorflow/tfjs-backend-wasm 4.22 the last three are not registered
 * (`tf.getKernel(name, 'wasm')` is undefined; `model.fit` fails with
 * "Kernel 'DepthwiseConv2dNativeBackpropInput' not registered for backend
 * 'wasm'"). Every other kernel a step needs (batchNorm, sigmoid/swish, relu6,
 * mean, pooling, dense, softmax cross-entropy, Adam) is present there.
 * @tensorflow/tfjs-backend-cpu has all four, but its filter gradients are
 * scalar loops that dominate a training step; ours do one matMul instead.
 * On wasm the two depthwise gradients run as WebAssembly SIMD loops on tfjs's
 * heap where they apply (depthwise_simd.ts), the tfjs-op kernels elsewhere.
 *
 * Speed beyond single kernels: BatchMatMul with transposed operands (matmul.ts),
 * a one-kernel Adam update for small variables (update_kernels.ts), and in
 * TRAINING_REPLACEMENTS plain Conv2D layers as tf.conv2d (conv_layer.ts).
 *
 * Beyond kernels, tfjs-core's gradient of FusedBatchNorm tiles per-channel
 * statistics to the activation size, which wasm's Tile makes the most
 * expensive part of a training step; we replace that gradient too.
 *
 * On wasm, a few forward kernels that training leans on are replaced too
 * (Mean, Slice, FusedBatchNorm, Identity, Cast, Sigmoid: see mean.ts, slice.ts,
 * batch_norm.ts, sharing.ts, activation_simd.ts), and inference gets a one-pass
 * swish kernel (EffnetSwish, activation_simd.ts, used by swish.ts), as are
 * tfjs-core's gradients of Add, Sub, Multiply, Square and Mean
 * (elementwise_grad.ts), which reduced over leading axes with a transposing
 * Sum, copied float32 tensors with Cast, and built a JS `ones` tensor.
 *
 * Memory and speed beyond single kernels (TRAINING_REPLACEMENTS): tfjs-core's
 * backward pass, tfjs-layers' swish and training batch norm, and tfjs-core's
 * Adam update are replaced by versions that keep less alive (most of a
 * training step's peak was theirs; see bench/memory.ts) and run fewer ops.
 *
 * The three tables below are the single list of what we provide: kernels per
 * backend, gradients (one registry for all backends in tfjs-core), and those
 * replacements. `registerTrainingKernels` installs all three.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, KernelConfig, KernelFunc } from "@tensorflow/tfjs";
import { fusedBatchNormGradConfig } from "./batch_norm_grad.ts";
import { conv2dBackpropInputKernelFunc } from "./conv2d_backprop_input.ts";
import { makeConv2dBackpropFilter } from "./conv2d_backprop_filter.ts";
import { makeDepthwiseConv2dBackpropFilter } from "./depthwise_backprop_filter.ts";
import { depthwiseConv2dBackpropInputKernelFunc } from "./depthwise_backprop_input.ts";
import { makeSimdDepthwiseBackpropFilter, makeSimdDepthwiseBackpropInput } from "./depthwise_simd.ts";
import { makeMean } from "./mean.ts";
import { makeWasmBatchNorm } from "./batch_norm.ts";
import { EFFNET_SWISH, makeSimdSigmoid, simdSwish } from "./activation_simd.ts";
import { makeWasmSlice } from "./slice.ts";
import { makeWasmBatchMatMul } from "./matmul.ts";
import { makeWasmCast, makeWasmIdentity } from "./sharing.ts";
import { installLeanBackprop, restoreOriginalBackprop } from "./backprop.ts";
import { installFusedSwish, restoreLayersSwish } from "./swish.ts";
import { installLeanAdam, restoreTfjsAdam } from "./adam.ts";
import { UPDATE_KERNELS, cpuUpdateKernel, wasmUpdateKernel } from "./update_kernels.ts";
import {
  installFusedDepthwise,
  installPlainConv2d,
  restoreLayersConv2d,
  restoreLayersDepthwise,
} from "./conv_layer.ts";
import { installFusedBatchNorm, restoreLayersBatchNorm } from "./batch_norm_training.ts";
import {
  addGradConfig,
  meanGradConfig,
  multiplyGradConfig,
  squareGradConfig,
  subGradConfig,
} from "./elementwise_grad.ts";

export interface TrainingKernel {
  readonly backendName: string;
  readonly kernelName: string;
  readonly kernelFunc: KernelFunc;
  /** Why this backend gets it: filling a gap, or replacing a slow original. */
  readonly reason: string;
}

const MISSING_IN_WASM = "not registered by @tensorflow/tfjs-backend-wasm 4.22";
const SLOW_ON_WASM =
  "replaces tfjs-backend-wasm's scalar-loop kernel with its XNNPACK forward Conv2D (transposed-convolution identity)";
const SLOW_MEAN_ON_WASM =
  "per-channel means of NHWC activations by XNNPACK average pooling, where tfjs-backend-wasm's Mean transposes the whole tensor first";
const SLOW_SLICE_ON_WASM =
  "copies only the slice, through heap views, where tfjs-backend-wasm's Slice first copies the whole input out of the heap";
const SLOW_BATCH_NORM_ON_WASM =
  "three XNNPACK broadcasting binary ops instead of tfjs-backend-wasm's per-element C++ loop";
const SLOW_TRANSPOSED_MATMUL_ON_WASM =
  "products with a transposed operand on XNNPACK (after transposing the cheaper side), where tfjs-backend-wasm runs them as a scalar loop";
const COPYING_CAST_ON_WASM =
  "a cast to the tensor's own dtype shares its buffer, where tfjs-backend-wasm's Cast copies it (tf.moments casts float32 to float32)";
const COPYING_IDENTITY_ON_WASM =
  "shares its buffer as tfjs-backend-cpu's does, where tfjs-backend-wasm's copies it (every tensor a gradient saves is cloned)";
const SLOW_SIGMOID_ON_WASM =
  "four lanes at a time in float32 (WebAssembly SIMD, within 3.6e-7 relative), where tfjs-backend-wasm's is a scalar double-precision loop";
const ONE_PASS_SWISH =
  "new: x·σ(x) in one WebAssembly SIMD pass where tfjs-layers runs x·1, Sigmoid and a multiply (inference; swish.ts)";
const ONE_KERNEL_UPDATE =
  "new: an optimiser's whole per-variable update in one pass, bit-identical to tfjs's ops (update_kernels.ts)";
const SLOW_ON_CPU = "replaces the scalar-loop kernel of @tensorflow/tfjs-backend-cpu with im2col + one matMul";

export const TRAINING_KERNELS: readonly TrainingKernel[] = [
  {
    backendName: "wasm",
    kernelName: tf.Conv2DBackpropFilter,
    kernelFunc: makeConv2dBackpropFilter({ tapLayout: "channelsMajor" }),
    reason: MISSING_IN_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    kernelFunc: makeSimdDepthwiseBackpropFilter(makeDepthwiseConv2dBackpropFilter({ method: "pooledTaps" })),
    reason: MISSING_IN_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    kernelFunc: makeSimdDepthwiseBackpropInput(depthwiseConv2dBackpropInputKernelFunc),
    reason: MISSING_IN_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.Conv2DBackpropInput,
    kernelFunc: conv2dBackpropInputKernelFunc,
    reason: SLOW_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.Mean,
    kernelFunc: makeMean(() => originalKernel(tf.Mean, "wasm")!.kernelFunc),
    reason: SLOW_MEAN_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.Slice,
    kernelFunc: makeWasmSlice(() => originalKernel(tf.Slice, "wasm")!.kernelFunc),
    reason: SLOW_SLICE_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.FusedBatchNorm,
    kernelFunc: makeWasmBatchNorm(() => originalKernel(tf.FusedBatchNorm, "wasm")!.kernelFunc),
    reason: SLOW_BATCH_NORM_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.BatchMatMul,
    kernelFunc: makeWasmBatchMatMul(() => originalKernel(tf.BatchMatMul, "wasm")!.kernelFunc),
    reason: SLOW_TRANSPOSED_MATMUL_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.Cast,
    kernelFunc: makeWasmCast(() => originalKernel(tf.Cast, "wasm")!.kernelFunc),
    reason: COPYING_CAST_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.Identity,
    kernelFunc: makeWasmIdentity(() => originalKernel(tf.Identity, "wasm")!.kernelFunc),
    reason: COPYING_IDENTITY_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: tf.Sigmoid,
    kernelFunc: makeSimdSigmoid(() => originalKernel(tf.Sigmoid, "wasm")!.kernelFunc),
    reason: SLOW_SIGMOID_ON_WASM,
  },
  {
    backendName: "wasm",
    kernelName: EFFNET_SWISH,
    kernelFunc: simdSwish,
    reason: ONE_PASS_SWISH,
  },
  ...UPDATE_KERNELS.map((kernel) => ({
    backendName: "wasm",
    kernelName: kernel.kernelName,
    kernelFunc: wasmUpdateKernel(kernel),
    reason: ONE_KERNEL_UPDATE,
  })),
  {
    backendName: "cpu",
    kernelName: tf.Conv2DBackpropFilter,
    kernelFunc: makeConv2dBackpropFilter({ tapLayout: "rowsMajor" }),
    reason: SLOW_ON_CPU,
  },
  {
    backendName: "cpu",
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    kernelFunc: makeDepthwiseConv2dBackpropFilter({ method: "taps", tapLayout: "rowsMajor" }),
    reason: SLOW_ON_CPU,
  },
  ...UPDATE_KERNELS.map((kernel) => ({
    backendName: "cpu",
    kernelName: kernel.kernelName,
    kernelFunc: cpuUpdateKernel(kernel),
    reason: ONE_KERNEL_UPDATE,
  })),
];

export interface TrainingGradient {
  readonly kernelName: string;
  readonly gradConfig: GradConfig;
  /** Why tfjs-core's own gradient is replaced. */
  readonly reason: string;
}

/**
 * Gradients replacing tfjs-core's. tfjs-core keeps one gradient registry for
 * all backends (kernel_registry.ts `gradRegistry`), so these apply to every
 * backend; each computes the same derivatives with cheaper ops everywhere.
 */
const BROADCAST_SUMS = "per-channel broadcast reductions by average pooling (sumOverAxes) instead of a transposing Sum";

export const TRAINING_GRADIENTS: readonly TrainingGradient[] = [
  {
    kernelName: tf.FusedBatchNorm,
    gradConfig: fusedBatchNormGradConfig,
    reason: "broadcasts where tfjs-core tiles to the activation size, and shares its two full-size sums",
  },
  { kernelName: tf.Add, gradConfig: addGradConfig, reason: BROADCAST_SUMS },
  { kernelName: tf.Sub, gradConfig: subGradConfig, reason: BROADCAST_SUMS },
  {
    kernelName: tf.Multiply,
    gradConfig: multiplyGradConfig,
    reason: `${BROADCAST_SUMS}; no float32→float32 Cast copies`,
  },
  { kernelName: tf.Square, gradConfig: squareGradConfig, reason: "no float32→float32 Cast copy" },
  {
    kernelName: tf.Mean,
    gradConfig: meanGradConfig,
    reason: "a Fill and one broadcasting multiply instead of a JS-built ones tensor, a multiply and a divide",
  },
];

export interface TrainingReplacement {
  /** What of tfjs is replaced. */
  readonly replaces: string;
  readonly install: () => void;
  readonly restore: () => void;
  readonly reason: string;
}

/** Parts of tfjs above the kernel level that effnet replaces, for every backend; each is tested against the original. */
export const TRAINING_REPLACEMENTS: readonly TrainingReplacement[] = [
  {
    replaces: "tfjs-core Engine.gradients (the backward pass)",
    install: installLeanBackprop,
    restore: restoreOriginalBackprop,
    reason:
      "frees saved tensors and gradients as it goes, saves only shapes where a gradient reads only shapes (backprop.ts)",
  },
  {
    replaces: "tfjs-layers' swish activation",
    install: installFusedSwish,
    restore: restoreLayersSwish,
    reason: "one op whose tape keeps x alone, five backward passes instead of about nine (swish.ts)",
  },
  {
    replaces: "tfjs-layers' BatchNormalization in training",
    install: installFusedBatchNorm,
    restore: restoreLayersBatchNorm,
    reason: "one op with the closed-form gradient instead of six taped ops; keeps x alone (batch_norm_training.ts)",
  },
  {
    replaces: "tfjs-layers' Conv2D without bias or activation",
    install: installPlainConv2d,
    restore: restoreLayersConv2d,
    reason:
      "tf.conv2d, whose gradient skips dx where nothing needs it (the stem), instead of fused.conv2d's eager customGrad (conv_layer.ts)",
  },
  {
    replaces: "tfjs-layers' DepthwiseConv2D with a bias, in inference",
    install: installFusedDepthwise,
    restore: restoreLayersDepthwise,
    reason:
      "tf.fused.depthwiseConv2d with the bias inside the kernel instead of a convolution and a broadcasting Add (an exported model's folded batch norms; conv_layer.ts)",
  },
  {
    replaces: "tfjs-core AdamOptimizer.applyGradients",
    install: installLeanAdam,
    restore: restoreTfjsAdam,
    reason: "one tidy per variable instead of one for all, scalars made once (adam.ts)",
  },
];

/** The rows of TRAINING_KERNELS for one backend (empty for e.g. 'tensorflow', which has native kernels). */
export function trainingKernelsFor(backendName: string): readonly TrainingKernel[] {
  return TRAINING_KERNELS.filter((row) => row.backendName === backendName);
}

/**
 * What was registered before we replaced it, keyed "backend/kernel";
 * `null` records that the backend had no such kernel (the wasm gaps).
 */
const originalKernels = new Map<string, KernelConfig | null>();
const keyOf = (backendName: string, kernelName: string) => `${backendName}/${kernelName}`;

function isOurs(row: TrainingKernel): boolean {
  return tf.getKernel(row.kernelName, row.backendName)?.kernelFunc === row.kernelFunc;
}

/**
 * Registers effnet's training kernels for `backendName` (default: the active
 * backend) and returns the names of the kernels now provided by us.
 * Idempotent: kernels already in place are left alone. Replaced originals are
 * remembered for `restoreOriginalKernels` / `originalKernel`.
 * Also installs TRAINING_GRADIENTS and the lean backward pass (`registerTrainingGradients`).
 */
export function registerTrainingKernels(backendName: string = tf.getBackend()): string[] {
  registerTrainingGradients();
  const rows = trainingKernelsFor(backendName);
  for (const row of rows) {
    if (isOurs(row)) continue;
    const existing = tf.getKernel(row.kernelName, row.backendName);
    originalKernels.set(keyOf(row.backendName, row.kernelName), existing ?? null);
    // registerKernel would only warn and overwrite; unregister first so the
    // replacement is explicit and silent.
    if (existing) tf.unregisterKernel(row.kernelName, row.backendName);
    // Keep the original's setupFunc (wasm's binds its C function there), so a
    // backend initialised after this call still sets up what a fallback to
    // the original kernel (e.g. in mean.ts) needs.
    tf.registerKernel({
      kernelName: row.kernelName,
      backendName: row.backendName,
      kernelFunc: row.kernelFunc,
      setupFunc: existing?.setupFunc,
    });
  }
  return rows.map((row) => row.kernelName);
}

/**
 * Undoes `registerTrainingKernels(backendName)`: replaced kernels get their
 * original back, kernels the backend never had are unregistered again.
 * Used by tests and benchmarks to compare against tfjs's own kernels.
 */
export function restoreOriginalKernels(backendName: string): void {
  for (const row of trainingKernelsFor(backendName)) {
    if (!isOurs(row)) continue;
    tf.unregisterKernel(row.kernelName, row.backendName);
    const original = originalKernels.get(keyOf(row.backendName, row.kernelName));
    if (original) tf.registerKernel(original);
  }
}

/**
 * The kernel that `backendName` has for `kernelName` from tfjs itself — the
 * one we replaced, or the current one if we have not replaced it —
 * or `undefined` if tfjs has none (the wasm gaps). Lets a caller run the
 * original directly, e.g. to compare results.
 */
export function originalKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  const key = keyOf(backendName, kernelName);
  if (originalKernels.has(key)) return originalKernels.get(key) ?? undefined;
  return tf.getKernel(kernelName, backendName);
}

/** tfjs-core's gradient configs that TRAINING_GRADIENTS replaced, by kernel name. */
const originalGradients = new Map<string, GradConfig | undefined>();

/**
 * Installs TRAINING_REPLACEMENTS and TRAINING_GRADIENTS, remembering tfjs-core's originals for
 * `restoreOriginalGradients` / `originalGradient`. Idempotent.
 * tf.registerGradient would overwrite silently (it warns only with the DEBUG
 * flag on: kernel_registry.ts `registerGradient`); we unregister first so the
 * replacement is explicit either way.
 */
export function registerTrainingGradients(): string[] {
  for (const row of TRAINING_REPLACEMENTS) row.install();
  for (const row of TRAINING_GRADIENTS) {
    const existing = tf.getGradient(row.kernelName);
    if (existing === row.gradConfig) continue;
    originalGradients.set(row.kernelName, existing);
    if (existing) tf.unregisterGradient(row.kernelName);
    tf.registerGradient(row.gradConfig);
  }
  return TRAINING_GRADIENTS.map((row) => row.kernelName);
}

/** Undoes `registerTrainingGradients`: tfjs-core's gradients are back. */
export function restoreOriginalGradients(): void {
  for (const row of TRAINING_GRADIENTS) {
    if (tf.getGradient(row.kernelName) !== row.gradConfig) continue;
    tf.unregisterGradient(row.kernelName);
    const original = originalGradients.get(row.kernelName);
    if (original) tf.registerGradient(original);
  }
}

/** tfjs-core's own gradient for `kernelName`, whether or not we replaced it. */
export function originalGradient(kernelName: string): GradConfig | undefined {
  if (originalGradients.has(kernelName)) return originalGradients.get(kernelName);
  return tf.getGradient(kernelName);
}
