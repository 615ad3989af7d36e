/**
 * `DepthwiseConv2dNativeBackpropFilter` (tfjs kernel name; TF op of the same
 * name): gradient of a depthwise convolution with respect to its filter.
 *
 * Math. Forward (NHWC, undilated, channel multiplier M, filter [R, C, K, M]):
 *   y[n, i, j, k·M + m] = Σ_{r, c} xPadded[n, i*sH + r, j*sW + c, k] · w[r, c, k, m]
 * so
 *   dw[r, c, k, m] = Σ_{n, i, j} xPadded[n, i*sH + r, j*sW + c, k] · dy[n, i, j, k·M + m]
 * Each channel only meets its own dy channel, so unlike a full convolution
 * there is no channel contraction to hand to a matMul: with the im2col
 * patches P [N·OH·OW, R·C, K, 1] and dy as D [N·OH·OW, 1, K, M], it is an
 * elementwise (broadcast) product followed by a sum over the N·OH·OW rows.
 * The row sum is done as 1ᵀ·(P⊙D) — a [1 × rows]·[rows × R·C·K·M] matMul —
 * because reducing over a leading axis makes the cpu and wasm `Sum` kernels
 * transpose the whole product first, while BatchMatMul reads it in place.
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
  Tensor4D,
  TensorInfo,
} from '@tensorflow/tfjs';
import { runCompositeKernel } from './composite.ts';
import { assertNoDilation, computeWindowGeometry, extractPatches } from './geometry.ts';

/** Σ over the rows of a [rows, columns] matrix, as 1ᵀ·matrix (see header). */
export function sumRows(matrix: Tensor): Tensor {
  const [rows] = matrix.shape;
  return tf.matMul(tf.ones([1, rows]), matrix as tf.Tensor2D);
}

export function depthwiseConv2dBackpropFilter(args: {
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
    const [filterHeight, filterWidth, channels, multiplier] = filterShape;
    const taps = filterHeight * filterWidth;
    const positions = geometry.batchSize * geometry.outHeight * geometry.outWidth;
    const patches = tf.reshape(extractPatches(x, geometry), [positions, taps, channels, 1]);
    // dy's channel axis is ordered (k, m): output channel k·M + m.
    const dy = tf.reshape(tensors.dy, [positions, 1, channels, multiplier]);
    const products = tf.reshape(tf.mul(patches, dy), [positions, taps * channels * multiplier]);
    return tf.reshape(sumRows(products), filterShape);
  });
}

export const depthwiseConv2dBackpropFilterKernelFunc = depthwiseConv2dBackpropFilter as unknown as KernelFunc;
