/**
 * `Conv2DBackpropInput` (tfjs kernel name; TF op of the same name): gradient
 * of a 2-D convolution with respect to its input, for tfjs-backend-wasm.
 *
 * Why: tfjs-backend-wasm 4.22 has this kernel, but as a direct 7-deep scalar
 * loop (tfjs-backend-wasm/src/cc/kernels/Conv2DBackpropInput.cc, not XNNPACK): for
 * EfficientNet-B0's 1×1 convolutions, products that XNNPACK does about a hundred times
 * faster (bench/kernels.ts measures it).
 *
 * Math: the "transposed convolution" identity (derived at
 * `transposedConvolutionInput` in geometry.ts). With Z = dy with s-1 zeros
 * between its entries, padded by R-1-padTop in front,
 *   dx[n, h, w, k] = Σ_{r', c', o} Z[n, h + r', w + c', o] · W[R-1-r', C-1-c', k, o]
 * i.e. a stride-1 'valid' convolution of Z with the filter flipped spatially
 * and with its in/out channel axes swapped ([R, C, O, K]) — which runs on the
 * backend's forward Conv2D (XNNPACK). For the 1×1 stride-1 convolutions that
 * dominate MobileNet/EfficientNet blocks Z is dy itself, and the convolution
 * is one GEMM, dy · Wᵀ.
 * Only float32 rounding differs from the direct loop (summation order).
 */
import * as tf from "@tensorflow/tfjs";
import type { Conv2DBackpropInputAttrs, KernelBackend, KernelFunc, Tensor4D, TensorInfo } from "@tensorflow/tfjs";
import { runCompositeKernel } from "./composite.ts";
import { computeWindowGeometry, transposedConvolutionOperands } from "./geometry.ts";

export function conv2dBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: KernelBackend;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const channelsFirst = dataFormat === "NCHW";

  return runCompositeKernel(backend, { dy: inputs.dy, filter: inputs.filter }, (tensors) => {
    const filterShape = tensors.filter.shape as [number, number, number, number];
    const g = computeWindowGeometry(inputShape, filterShape, strides, pad, dimRoundingMode, false, channelsFirst);
    // NCHW via channels-last, as tfjs-backend-wasm's forward Conv2D is NHWC only.
    const dy = (channelsFirst ? tf.transpose(tensors.dy, [0, 2, 3, 1]) : tensors.dy) as Tensor4D;
    const { input: z, padding } = transposedConvolutionOperands(dy, g);
    const flippedSwapped = tf.transpose(
      g.filterHeight * g.filterWidth === 1 ? tensors.filter : tf.reverse(tensors.filter, [0, 1]),
      [0, 1, 3, 2],
    ) as Tensor4D;
    const dx = tf.conv2d(z, flippedSwapped, 1, padding);
    return channelsFirst ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  });
}

export const conv2dBackpropInputKernelFunc = conv2dBackpropInput as unknown as KernelFunc;
