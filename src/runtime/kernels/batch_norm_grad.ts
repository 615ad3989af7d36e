/**
 * Gradient of the `FusedBatchNorm` kernel (what tf.batchNorm and
 * tfjs-layers' BatchNormalization run), replacing tfjs-core 4.22's
 * `fusedBatchNormGradConfig` (tfjs-core/src/gradients/FusedBatchNorm_grad.ts).
 *
 * Why: for a rank-1 (per-channel) mean, tfjs-core's derX materialises
 * rsqrt(variance + ε) at the full activation size with `tile(reshape(r,
 * [1, 1, 1, C]), [N, H, W, 1])` before multiplying. tfjs-backend-wasm's Tile
 * is a per-element index loop, and these tiles were the largest single cost of
 * an EfficientNet-B0 training step (bench/kernels.ts measures it). Its other
 * derivatives spend ~12 more full-size passes (several `mul`s, one `sub` and
 * four `sum`s over leading axes, each of which wasm's Sum transposes first).
 *
 * Math. Forward, with r = 1/√(variance + ε) and s = scale (1 if absent):
 *   y = (x − mean) · r · s + offset
 * so, with Σ over the axes along which mean broadcasts against x:
 *   ∂L/∂x        = dy · (r · s)                     (mean, variance as inputs)
 *   ∂L/∂offset   = Σ dy
 *   ∂L/∂scale    = r · Σ dy·(x − mean)
 *   ∂L/∂mean     = −r · s · Σ dy
 *   ∂L/∂variance = −½ · r³ · s · Σ dy·(x − mean)
 * These are tfjs-core's formulas with every per-channel factor moved out of
 * the sums (exact in real arithmetic): only two full-size sums remain, Σ dy
 * and Σ dy·(x − mean), shared by the four small derivatives, and ∂L/∂x is
 * one broadcasting multiply. Broadcasting replaces `tile`, which produced
 * the same values. The results differ from tfjs-core's only in float32
 * rounding (order of the per-channel factors, summation order); the tests
 * hold them to 1e-4 relative (test/runtime/batch_norm_grad.test.ts).
 *
 * The sums are computed eagerly in the gradient function, as tfjs-core's
 * own computes `x − mean` and `dy · scale` eagerly there; but only the two
 * per-channel results outlive it, where tfjs-core keeps two activation-sized
 * tensors alive until the end of the backward pass.
 *
 * tfjs-core's non-rank-1 branch does not reduce at all (it assumes mean has
 * the full shape of x). Here a mean of any shape that broadcasts against x is
 * reduced over its broadcast axes; for a full-shaped mean there are none, so
 * that case is unchanged.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, NamedAttrMap, Tensor } from "@tensorflow/tfjs";
import { sumOverAxes } from "./reduce.ts";

export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: tf.FusedBatchNorm,
  // As tfjs-core: offset's gradient does not depend on offset.
  inputsToSave: ["x", "mean", "variance", "scale"],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const dyTensor = dy as Tensor;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved;
    const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const toMeanShape = (t: Tensor) => tf.reshape(t, mean.shape);

    const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const rTimesScale = scale == null ? r : tf.mul(r, scale);
    // The two full-size sums; their activation-sized intermediates are freed here.
    const [sumDy, sumDyCentered] = tf.tidy(() => [
      toMeanShape(sumOverAxes(dyTensor, reductionAxes)),
      toMeanShape(sumOverAxes(tf.mul(dyTensor, tf.sub(x, mean)), reductionAxes)),
    ]);

    return {
      x: () => tf.reshape(tf.mul(dyTensor, rTimesScale), x.shape),
      offset: () => tf.clone(sumDy),
      scale: () => tf.mul(r, sumDyCentered),
      mean: () => tf.mul(tf.neg(rTimesScale), sumDy),
      variance: () => tf.mul(tf.mul(tf.scalar(-0.5), tf.mul(tf.square(r), rTimesScale)), sumDyCentered),
    };
  },
};
