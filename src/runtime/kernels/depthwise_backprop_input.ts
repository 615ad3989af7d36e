/**
 * `DepthwiseConv2dNativeBackpropInput` (tfjs kernel name; TF op of the same
 * name): gradient of a depthwise convolution with respect to its input.
 *
 * Math, per spatial axis (the other is analogous). Forward with stride s,
 * top padding t and filter taps r = 0..R-1:
 *   y[i] = Σ_r xPadded[i·s + r] · w[r],   xPadded[p] = x[p - t]
 * so
 *   dx[h] = Σ_{i, r : i·s + r = h + t} dy[i] · w[r]
 * Let dyDilated be dy with s-1 zeros inserted after every element
 * (dyDilated[q] = dy[q/s] when s divides q, else 0). Then
 *   dx[h] = Σ_r dyDilated[h + t - r] · w[r]
 *         = Σ_r' Z[h + r'] · wFlipped[r'],   wFlipped[r'] = w[R-1-r'],
 * where Z is dyDilated shifted right by R-1-t (zero-padded in front) and
 * padded/cropped at the back to length H + R - 1. That is a *stride-1 'valid'
 * depthwise convolution of Z with the spatially flipped filter* — the
 * standard "transposed convolution" identity — so it runs on the backend's
 * forward DepthwiseConv2dNative kernel (XNNPACK on wasm).
 *
 * Channel multiplier M > 1: dx[k] = Σ_m (dy[k·M+m] ⋆ wFlipped[k, m]); we
 * treat the K·M dy channels as a multiplier-1 depthwise conv with filter
 * [R, C, K·M, 1], then sum the M results of each input channel.
 *
 * tfjs-backend-wasm 4.22 has no kernel for this op.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelFunc,
  Tensor4D,
  TensorInfo,
} from '@tensorflow/tfjs';
import { runCompositeKernel } from './composite.ts';
import { assertNoDilation, computeWindowGeometry, fitToOutputSize, padOrCropSpatial } from './geometry.ts';

/** Inserts strideHeight-1 / strideWidth-1 zeros after every row / column. */
function insertZerosBetween(dy: Tensor4D, strideHeight: number, strideWidth: number): Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [batch, height, width, channels] = dy.shape;
  // [N, H, 1, W, 1, C] padded to [N, H, sH, W, sW, C] puts each value at the
  // start of an sH×sW block of zeros; flattening interleaves them.
  const spread = tf.pad(tf.reshape(dy, [batch, height, 1, width, 1, channels]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [batch, height * strideHeight, width * strideWidth, channels]);
}

export function depthwiseConv2dBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: KernelBackend;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  assertNoDilation('DepthwiseConv2dNativeBackpropInput', dilations);

  return runCompositeKernel(backend, { dy: inputs.dy, filter: inputs.filter }, (tensors) => {
    const filterShape = tensors.filter.shape as [number, number, number, number];
    const [filterHeight, filterWidth, channels, multiplier] = filterShape;
    const g = computeWindowGeometry(inputShape, filterShape, strides, pad, dimRoundingMode, true);

    const dilated = insertZerosBetween(fitToOutputSize(tensors.dy as Tensor4D, g), g.strideHeight, g.strideWidth);
    const frontHeight = filterHeight - 1 - g.padTop;
    const frontWidth = filterWidth - 1 - g.padLeft;
    const z = padOrCropSpatial(
      dilated,
      [frontHeight, g.inHeight + filterHeight - 1 - frontHeight - dilated.shape[1]],
      [frontWidth, g.inWidth + filterWidth - 1 - frontWidth - dilated.shape[2]],
    );
    const flippedFilter = tf.reshape(tf.reverse(tensors.filter, [0, 1]), [
      filterHeight,
      filterWidth,
      channels * multiplier,
      1,
    ]) as tf.Tensor4D;
    const perOutputChannel = tf.depthwiseConv2d(z, flippedFilter, 1, 'valid');
    if (multiplier === 1) return perOutputChannel;
    return tf.sum(tf.reshape(perOutputChannel, [g.batchSize, g.inHeight, g.inWidth, channels, multiplier]), 4);
  });
}

export const depthwiseConv2dBackpropInputKernelFunc = depthwiseConv2dBackpropInput as unknown as KernelFunc;
