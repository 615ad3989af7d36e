/**
 * Swish (x · σ(x), Ramachandran et al. 2017; EfficientNet's activation) as one op with
 * its own gradient, for tfjs-layers' `activation: 'swish'`.
 *
 * Why: tfjs-layers 4.22 computes swish as `mul(sigmoid(mul(x, alpha)), x)`
 * (activations.ts, class Swish), three ops on the tape. A training step then keeps σ(x)
 * (full size, for Sigmoid's gradient) beside x, holds the full-size x·1 until the layer
 * ends, and its backward pass runs the gradients of all three — including the gradient of
 * the scalar alpha, a full-size multiply and a sum over the whole tensor that nothing
 * uses — and adds the two contributions to dx: about nine full-size passes and as many
 * allocations per swish. For EfficientNet-B0 at 224 px, σ(x) alone is 24 MiB per image.
 *
 * Here the tape keeps σ(x) and the output y = x·σ(x), and the gradient is
 *   d/dx [x·σ(x)] = σ(x) + x·σ(x)·(1 − σ(x)) = y + s·(1 − y),  s = σ(x),
 * four full-size passes (1 − y, s·…, y + …, dy·…) and no sigmoid. Keeping s costs no
 * memory over keeping x: x (a batch norm's output) has no other use and is freed, and y
 * is the next layer's input, which that layer's tape keeps anyway (a clone shares the
 * buffer: sharing.ts). Recomputing s from x instead took six passes, the sigmoid the
 * dearest of them (wasm's Sigmoid is a scalar loop).
 * Only alpha = 1 (what the Activation layer passes) takes this
 * path; anything else runs tfjs-layers' own code.
 *
 * Where no gradient is being recorded (inference: model.predict, an exported model) and
 * the backend has effnet's one-pass kernel (EFFNET_SWISH, wasm: activation_simd.ts), swish
 * is that kernel alone: one pass, no σ(x) kept.
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "@tensorflow/tfjs";
import { EFFNET_SWISH } from "./activation_simd.ts";

/** x · σ(x), recording σ(x) and the output for the backward pass. */
function swishWithGradient(x: Tensor, save: tf.GradSaveFunc) {
  const s = tf.sigmoid(x);
  const y = tf.mul(x, s);
  save([s, y]);
  return {
    value: y,
    gradFunc: (dy: Tensor, [sigmoid, output]: Tensor[]) =>
      tf.mul(dy, tf.add(output, tf.mul(sigmoid, tf.sub(1, output)))),
  };
}
type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];
export const swish = tf.customGrad(swishWithGradient as unknown as CustomGradientFunc) as unknown as (
  x: Tensor,
) => Tensor;

interface SwishPrototype {
  apply(x: Tensor, alpha?: number): Tensor;
}

/** tfjs-layers' Swish class, found by its registered name (it is not exported). */
function swishPrototype(): SwishPrototype | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.swish as
    [{ prototype: SwishPrototype }, unknown] | undefined;
  return entry?.[0].prototype;
}

let originalApply: SwishPrototype["apply"] | undefined;

/** x·σ(x): one kernel in inference where the backend has it, else `swish` (which records its gradient). */
function swishOp(x: Tensor): Tensor {
  if (!tf.engine().isTapeOn() && tf.getKernel(EFFNET_SWISH, tf.getBackend()))
    return tf.engine().runKernel(EFFNET_SWISH, { x }) as Tensor;
  return swish(x);
}

function fusedApply(this: SwishPrototype, x: Tensor, alpha = 1): Tensor {
  return alpha === 1 ? swishOp(x) : originalApply!.call(this, x, alpha);
}

/** Makes every tfjs-layers swish activation use `swish` (idempotent). */
export function installFusedSwish(): void {
  const prototype = swishPrototype();
  if (!prototype || prototype.apply === fusedApply) return;
  originalApply = prototype.apply;
  prototype.apply = fusedApply;
}

/** Puts tfjs-layers' own swish back (for tests comparing the two). */
export function restoreLayersSwish(): void {
  const prototype = swishPrototype();
  if (prototype && originalApply && prototype.apply === fusedApply) prototype.apply = originalApply;
}
