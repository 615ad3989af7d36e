/**
 * tfjs-layers' Conv2D without bias or activation as the plain `tf.conv2d` op, whose
 * gradient is computed only for the inputs that need one.
 *
 * Why: tfjs-layers 4.22 runs every Conv2D through `tfc.fused.conv2d`
 * (layers/convolutional.ts conv2dWithBiasActivation), and tfjs-core's fused conv2d
 * with a linear activation fuses even while a gradient is being recorded
 * (ops/fused_util.ts shouldFuse). Its gradient is a customGrad (ops/fused/conv2d.ts)
 * that computes dx *and* dw eagerly, whether or not anything needs dx. For a network's
 * first convolution nothing does: its input is the image. In EfficientNet-B0 at 224 px
 * that wasted stem dx — a 3×3 stride-2 transposed convolution of dy [N, 112, 112, 32]
 * up to [N, 224, 224, 3] — is a full-resolution pass the step does not need. tf.conv2d's
 * own gradient (gradients/Conv2D_grad.ts) returns closures, and the backward pass
 * calls only those of inputs on a path from the variables (backprop.ts filterTape).
 * The fused customGrad also saves the convolution's output for an activation
 * derivative a linear activation does not have; tf.conv2d saves x and the filter only.
 *
 * Only the layers effnet's convolutions are taken: rank 2, no bias, linear activation,
 * channels last, dilation 1. Anything else runs tfjs-layers' own call. The forward
 * values are the same XNNPACK convolution on wasm (FusedConv2D with neither bias nor
 * activation and Conv2D call the same C++ conv2d); tested against tfjs-layers' layer.
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Tensor4D } from "@tensorflow/tfjs";

/** The parts of tfjs-layers' Conv (layers/convolutional.ts) that its call reads. */
interface ConvLayer {
  rank: number;
  bias: unknown;
  activation: { getClassName(): string };
  dataFormat: string;
  dilationRate: number | number[];
  strides: number[];
  padding: string;
  kernel: { read(): Tensor };
  call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[];
}

/** Whether `layer` computes a plain convolution, one tf.conv2d can stand in for. */
function isPlainConvolution(layer: ConvLayer, input: Tensor): boolean {
  const dilations = typeof layer.dilationRate === "number" ? [layer.dilationRate] : layer.dilationRate;
  return (
    layer.rank === 2 &&
    layer.bias == null &&
    layer.activation.getClassName() === "linear" &&
    layer.dataFormat === "channelsLast" &&
    dilations.every((d) => d === 1) &&
    input.rank === 4 &&
    input.dtype === "float32" &&
    (layer.padding === "same" || layer.padding === "valid")
  );
}

let originalCall: ConvLayer["call"] | undefined;

function plainCall(this: ConvLayer, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
  const input = Array.isArray(inputs) ? inputs[0] : inputs;
  if ((Array.isArray(inputs) && inputs.length !== 1) || !isPlainConvolution(this, input))
    return originalCall!.call(this, inputs, kwargs);
  return tf.tidy(() =>
    tf.conv2d(
      input as Tensor4D,
      this.kernel.read() as Tensor4D,
      this.strides as [number, number],
      this.padding as "same" | "valid",
    ),
  );
}

function conv2dPrototype(): ConvLayer | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D as
    [{ prototype: ConvLayer }, unknown] | undefined;
  return entry?.[0].prototype;
}

/** Makes tfjs-layers' plain Conv2D layers use tf.conv2d (idempotent). */
export function installPlainConv2d(): void {
  const prototype = conv2dPrototype();
  if (!prototype || prototype.call === plainCall) return;
  originalCall = prototype.call;
  prototype.call = plainCall;
}

/** Puts tfjs-layers' own Conv2D call back (for tests comparing the two). */
export function restoreLayersConv2d(): void {
  const prototype = conv2dPrototype();
  if (prototype && originalCall && prototype.call === plainCall) prototype.call = originalCall;
}

/**
 * tfjs-layers' DepthwiseConv2D with a bias, in inference, as one `tf.fused.depthwiseConv2d`
 * with the bias inside the kernel (the activation after it, as tfjs-layers applies it).
 *
 * Why: tfjs-layers 4.22's DepthwiseConv2D.call (layers/convolutional_depthwise.ts) runs the
 * depthwise convolution and then adds the bias as a separate broadcasting Add, a full pass
 * over the output. A folded (exported) model's depthwise convolutions all have a bias, the
 * batch norm they absorbed; tfjs-backend-wasm's FusedDepthwiseConv2D adds it inside XNNPACK's
 * convolution (measured: a 112×112×96 stride-2 depthwise 3×3 with its bias 0.44 ms fused
 * against 0.55–0.77 ms as two kernels). Only where no gradient is being recorded (training
 * keeps tfjs-layers' ops and their gradients), channels last, dilation 1; anything else runs
 * tfjs-layers' own call. The sums are the same up to float32
 * rounding (XNNPACK starts each from the bias); tested against tfjs-layers' layer at 1e-4.
 */
interface DepthwiseLayer {
  depthwiseKernel: { read(): Tensor };
  bias: { read(): Tensor } | null;
  activation: { apply(x: Tensor): Tensor } | null;
  dataFormat: string;
  dilationRate: number | number[];
  strides: number[];
  padding: string;
  call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[];
}

function isFusableDepthwise(layer: DepthwiseLayer, input: Tensor): boolean {
  const dilations = typeof layer.dilationRate === "number" ? [layer.dilationRate] : layer.dilationRate;
  return (
    !tf.engine().isTapeOn() &&
    layer.bias != null &&
    layer.dataFormat === "channelsLast" &&
    dilations.every((d) => d === 1) &&
    input.rank === 4 &&
    input.dtype === "float32" &&
    (layer.padding === "same" || layer.padding === "valid")
  );
}

let originalDepthwiseCall: DepthwiseLayer["call"] | undefined;

function fusedDepthwiseCall(
  this: DepthwiseLayer,
  inputs: Tensor | Tensor[],
  kwargs: Record<string, unknown>,
): Tensor | Tensor[] {
  const input = Array.isArray(inputs) ? inputs[0] : inputs;
  if ((Array.isArray(inputs) && inputs.length !== 1) || !isFusableDepthwise(this, input))
    return originalDepthwiseCall!.call(this, inputs, kwargs);
  return tf.tidy(() => {
    const y = tf.fused.depthwiseConv2d({
      x: input as Tensor4D,
      filter: this.depthwiseKernel.read() as Tensor4D,
      strides: this.strides as [number, number],
      pad: this.padding as "same" | "valid",
      bias: this.bias!.read(),
    });
    return this.activation ? this.activation.apply(y) : y;
  });
}

function depthwisePrototype(): DepthwiseLayer | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.DepthwiseConv2D as
    [{ prototype: DepthwiseLayer }, unknown] | undefined;
  return entry?.[0].prototype;
}

/** Makes tfjs-layers' DepthwiseConv2D layers with a bias run fused in inference (idempotent). */
export function installFusedDepthwise(): void {
  const prototype = depthwisePrototype();
  if (!prototype || prototype.call === fusedDepthwiseCall) return;
  originalDepthwiseCall = prototype.call;
  prototype.call = fusedDepthwiseCall;
}

/** Puts tfjs-layers' own DepthwiseConv2D call back (for tests comparing the two). */
export function restoreLayersDepthwise(): void {
  const prototype = depthwisePrototype();
  if (prototype && originalDepthwiseCall && prototype.call === fusedDepthwiseCall)
    prototype.call = originalDepthwiseCall;
}
