/**
 * `DepthwiseConv2dNativeBackpropInput` (tfjs kernel name; TF op of the same
 * name): gradient of a depthwise convolution with respect to its input.
 *
 * Math: the "transposed convolution" identity (derived at
 * `transposedConvolutionInput` in geometry.ts): dx is a *stride-1 'valid'
 * depthwise convolution of Z — dy with stride-1 zeros between its entries,
 * padded by R-1-padTop in front — with the spatially flipped filter, so it
 * runs on the backend's forward DepthwiseConv2dNative kernel (XNNPACK on
 * wasm).
 *
 * Channel multiplier M > 1: dx[k] = Σ_m (dy[k·M+m] ⋆ wFlipped[k, m]); we
 * treat the K·M dy channels as a multiplier-1 depthwise conv with filter
 * [R, C, K·M, 1], then sum the M results of each input channel.
 *
 * tfjs-backend-wasm 4.22 has no kernel for this op.
 */
import * as tf from "@tensorflow/tfjs";
import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelFunc,
  Tensor4D,
  TensorInfo,
} from "@tensorflow/tfjs";
import { runCompositeKernel } from "./composite.ts";
import { assertNoDilation, computeWindowGeometry, transposedConvolutionOperands } from "./geometry.ts";

export function depthwiseConv2dBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: KernelBackend;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  assertNoDilation("DepthwiseConv2dNativeBackpropInput", dilations);

  return runCompositeKernel(backend, { dy: inputs.dy, filter: inputs.filter }, (tensors) => {
    const filterShape = tensors.filter.shape as [number, number, number, number];
    const [filterHeight, filterWidth, channels, multiplier] = filterShape;
    const g = computeWindowGeometry(inputShape, filterShape, strides, pad, dimRoundingMode, true);

    const { input: z, padding } = transposedConvolutionOperands(tensors.dy as Tensor4D, g);
    const flippedFilter = tf.reshape(tf.reverse(tensors.filter, [0, 1]), [
      filterHeight,
      filterWidth,
      channels * multiplier,
      1,
    ]) as tf.Tensor4D;
    const perOutputChannel = tf.depthwiseConv2d(z, flippedFilter, 1, padding);
    if (multiplier === 1) return perOutputChannel;
    return tf.sum(tf.reshape(perOutputChannel, [g.batchSize, g.inHeight, g.inWidth, channels, multiplier]), 4);
  });
}

export const depthwiseConv2dBackpropInputKernelFunc = depthwiseConv2dBackpropInput as unknown as KernelFunc;
