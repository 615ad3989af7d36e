/**
 * `DepthwiseConv2dNativeBackpropFilter` (tfjs kernel name; TF op of the same
 * name): gradient of a depthwise convolution with respect to its filter.
 *
 * Math. Forward (NHWC, undilated, channel multiplier M, filter [R, C, K, M]):
 *   y[n, i, j, k·M + m] = Σ_{r, c} xPadded[n, i*sH + r, j*sW + c, k] · w[r, c, k, m]
 * so
 *   dw[r, c, k, m] = Σ_{n, i, j} xPadded[n, i*sH + r, j*sW + c, k] · dy[n, i, j, k·M + m]
 * Each channel only meets its own dy channel, so unlike a full convolution
 * there is no channel contraction to hand to a matMul: for each filter tap,
 * with that tap's im2col patch matrix P_t [rows, K] (see `extractTapMatrices`)
 * and dy on the same rows D [rows, K·M], it is an elementwise product
 * followed by a sum over the rows (batch and spatial positions).
 * Taps are done one at a time (each in its own tidy) so only one patch
 * matrix and one product are alive at once.
 *
 * tfjs-backend-wasm 4.22 has no kernel for this op; tfjs-backend-cpu's is a
 * scalar loop with TensorBuffer.get per term.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelBackend,
  KernelFunc,
  Tensor,
  Tensor2D,
  Tensor4D,
  TensorInfo,
} from '@tensorflow/tfjs';
import { runCompositeKernel } from './composite.ts';
import { assertNoDilation, computeWindowGeometry, extractTapMatrices, type TapLayout } from './geometry.ts';

export interface DepthwiseConv2dBackpropFilterOptions {
  /** Layout of the patch matrices; see `TapLayout` for why it is per backend. */
  tapLayout: TapLayout;
}

export function makeDepthwiseConv2dBackpropFilter({ tapLayout }: DepthwiseConv2dBackpropFilterOptions): KernelFunc {
  function depthwiseConv2dBackpropFilter(args: {
    inputs: { x: TensorInfo; dy: TensorInfo };
    backend: KernelBackend;
    attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
  }): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
    assertNoDilation('DepthwiseConv2dNativeBackpropFilter', dilations);

    return runCompositeKernel(backend, { x: inputs.x, dy: inputs.dy }, (tensors) => {
      const x = tensors.x as Tensor4D;
      const geometry = computeWindowGeometry(x.shape, filterShape, strides, pad, dimRoundingMode, true);
      const [, , channels, multiplier] = filterShape;
      const patches = extractTapMatrices(x, geometry, tapLayout);
      const rows = patches.rows;
      const dyRows = patches.alignWithTaps(tensors.dy as Tensor4D); // [rows, K·M], channel k·M + m
      const perTap: Tensor[] = [];
      if (tapLayout === 'rowsMajor') {
        // Σ over rows as 1ᵀ·product, a [1 × rows]·[rows × K·M] matMul:
        // tfjs-backend-cpu's Sum over a leading axis would first transpose the
        // whole product in a per-element loop (~4x slower).
        const ones = tf.ones([1, rows]) as Tensor2D;
        for (let t = 0; t < patches.count; t++) {
          perTap.push(
            tf.tidy(() => {
              const tap = patches.tap(t); // [rows, K]
              // Same-shape multiply when M = 1; broadcast each input channel
              // over its M outputs otherwise (tfjs-backend-cpu's broadcasting
              // Multiply is slow, but M > 1 is rare in the nets effnet builds).
              const products =
                multiplier === 1
                  ? tf.mul(tap, dyRows)
                  : tf.reshape(
                      tf.mul(tf.reshape(tap, [rows, channels, 1]), tf.reshape(dyRows, [rows, channels, multiplier])),
                      [rows, channels * multiplier],
                    );
              return tf.matMul(ones, products as Tensor2D); // [1, K·M]
            }),
          );
        }
      } else {
        // Positions innermost: the row sum is an innermost-axis reduction.
        const dyColumns = tf.reshape(tf.transpose(dyRows), [channels, multiplier, rows]);
        for (let t = 0; t < patches.count; t++) {
          perTap.push(
            tf.tidy(() => {
              const tap = tf.reshape(patches.tap(t), [channels, 1, rows]);
              return tf.reshape(tf.sum(tf.mul(tap, dyColumns), 2), [1, channels * multiplier]);
            }),
          );
        }
      }
      return tf.reshape(tf.concat(perTap, 0), filterShape);
    });
  }
  return depthwiseConv2dBackpropFilter as unknown as KernelFunc;
}
