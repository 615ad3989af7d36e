/**
 * `Mean` for tfjs-backend-wasm, fast for the per-channel means of NHWC
 * activations: axes [0, 1, 2] (tf.moments in a training-mode
 * BatchNormalization, twice per layer) and [1, 2] (GlobalAveragePooling2D,
 * squeeze-and-excitation).
 *
 * Why: tfjs-backend-wasm 4.22's Mean (kernels/Mean.js) reduces innermost axes
 * only, so for these axes it first transposes the whole activation
 * (`permuteAxesAndTranspose`), the same problem as Sum (see reduce.ts): a
 * full-size copy per mean, twice per batch-norm layer in training. A global
 * average pool over H×W is XNNPACK's NHWC average pooling (channels
 * contiguous, no transpose); for axes [0, 1, 2] the N per-image means are
 * then averaged by the original kernel on a tiny [N, C] tensor.
 *
 * Math: mean over (n, h, w) = (1/N) Σ_n [(1/HW) Σ_{h,w} x] — exact in real
 * arithmetic; only float32 rounding (summation order) differs.
 * Every other case (other axes, ranks, dtypes) runs the original kernel.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelBackend, KernelFunc, MeanAttrs, Tensor4D, TensorInfo } from "@tensorflow/tfjs";
import { runCompositeKernel } from "./composite.ts";

/** `original` returns tfjs's own Mean kernel for the backend (called lazily, per use). */
export function makeMean(original: () => KernelFunc): KernelFunc {
  function mean(args: { inputs: { x: TensorInfo }; backend: KernelBackend; attrs: MeanAttrs }): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const axes = x.shape.length === 4 ? tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b) : [];
    const overBatch = axes.length === 3 && axes[0] === 0 && axes[1] === 1 && axes[2] === 2;
    const overSpace = axes.length === 2 && axes[0] === 1 && axes[1] === 2;
    const [batch, height, width, channels] = x.shape;
    if (
      x.dtype !== "float32" ||
      !(overBatch || overSpace) ||
      height * width <= 1 ||
      tf.util.sizeFromShape(x.shape) === 0
    ) {
      return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    return runCompositeKernel(backend, { x }, ({ x: input }) => {
      const pooled = tf.avgPool(input as Tensor4D, [height, width], 1, "valid"); // [N, 1, 1, C]
      if (overSpace) return attrs.keepDims ? pooled : tf.reshape(pooled, [batch, channels]);
      const perChannel =
        batch === 1 ? tf.reshape(pooled, [channels]) : tf.mean(tf.reshape(pooled, [batch, channels]), 0);
      return attrs.keepDims ? tf.reshape(perChannel, [1, 1, 1, channels]) : perChannel;
    });
  }
  return mean as unknown as KernelFunc;
}
