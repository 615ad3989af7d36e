/**
 * Training-mode batch normalisation as one op with its own gradient, for tfjs-layers'
 * BatchNormalization (channels last, with gamma and beta: every batch norm effnet emits).
 *
 * Why: tfjs-layers 4.22 normalises a training batch with `tf.moments` (Mean, Cast, Sub,
 * Square, Mean) and then `tf.batchNorm` (layers/normalization.ts
 * regularNormalizeBatchInTraining), so the tape differentiates six ops: the backward pass
 * runs FusedBatchNorm's gradient, then the gradients of both Means (a full-size Fill and
 * multiply each), of Square (two full-size multiplies) and of Sub, and adds three
 * contributions into dx — about 13 full-size passes per layer — and the tape keeps x − mean
 * (Square's input) beside x. Here the tape keeps x alone and the gradient is the
 * closed form (Ioffe & Szegedy 2015, section 3; n = values per channel, x̂ = (x − μ)/σ,
 * σ = √(var + ε)):
 *   dβ = Σ dy,   dγ = Σ dy · x̂,   dx = (γ/σ) · (dy − dβ/n − x̂ · dγ/n)
 * in nine full-size passes, with per-channel sums by average pooling (reduce.ts).
 * Forward: μ by average pooling, var = mean((x − μ)²) (two-pass, as tf.moments), then
 * y = x · (γ/σ) + (β − μ · γ/σ). The moving mean and variance are updated exactly as
 * tfjs-layers does (BatchNormalization.call, doMovingAverage). Tested against tfjs-layers'
 * own layer at 1e-4 (test/runtime/batch_norm_grad.test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Tensor1D } from "@tensorflow/tfjs";
import { sumOverAxes } from "./reduce.ts";

const CHANNEL_AXES = [0, 1, 2];

/** Values per channel of an NHWC tensor. */
const perChannel = (x: Tensor) => x.size / x.shape[x.rank - 1];

interface Normalised {
  readonly y: Tensor;
  readonly mean: Tensor1D;
  readonly variance: Tensor1D;
}

/** y, and the batch's mean and (biased) variance for the moving averages. */
export function batchNormTraining(x: Tensor, gamma: Tensor1D, beta: Tensor1D, epsilon: number): Normalised {
  let statistics: { mean: Tensor1D; variance: Tensor1D } | undefined;
  const op = tf.customGrad(((input: Tensor, scale: Tensor1D, offset: Tensor1D, save: tf.GradSaveFunc) => {
    const x4 = input.rank === 4 ? input : tf.reshape(input, [1, 1, -1, input.shape[input.rank - 1]]);
    const n = perChannel(input);
    const mean = tf.div(sumOverAxes(x4, CHANNEL_AXES), n) as Tensor1D;
    const variance = tf.div(sumOverAxes(tf.square(tf.sub(x4, mean)), CHANNEL_AXES), n) as Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const gain = tf.mul(scale, invStd);
    const y = tf.add(tf.mul(input, gain), tf.sub(offset, tf.mul(mean, gain)));
    statistics = { mean: tf.keep(mean), variance: tf.keep(variance) };
    save([input, scale, mean, invStd]);
    return {
      value: y,
      gradFunc: (dy: Tensor, [xSaved, gammaSaved, meanSaved, invStdSaved]: Tensor[]) => {
        const dy4 = dy.rank === 4 ? dy : tf.reshape(dy, [1, 1, -1, dy.shape[dy.rank - 1]]);
        const xs4 = xSaved.rank === 4 ? xSaved : tf.reshape(xSaved, dy4.shape);
        const xHat = tf.mul(tf.sub(xs4, meanSaved), invStdSaved);
        const dBeta = sumOverAxes(dy4, CHANNEL_AXES);
        const dGamma = sumOverAxes(tf.mul(dy4, xHat), CHANNEL_AXES);
        const g = tf.mul(gammaSaved, invStdSaved);
        // dx = g·dy − (g·dγ/n)·x̂ − g·dβ/n, per channel coefficients broadcast over positions.
        const dx = tf.sub(
          tf.sub(tf.mul(dy4, g), tf.mul(xHat, tf.mul(g, tf.div(dGamma, n)))),
          tf.mul(g, tf.div(dBeta, n)),
        );
        return [tf.reshape(dx, xSaved.shape), dGamma, dBeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = (op as unknown as (a: Tensor, b: Tensor, c: Tensor) => Tensor)(x, gamma, beta);
  return { y, mean: statistics!.mean, variance: statistics!.variance };
}

/** The parts of tfjs-layers' BatchNormalization that its training call reads (layers/normalization.ts). */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): Tensor1D };
  beta: { read(): Tensor1D };
  movingMean: { read(): Tensor; write(t: Tensor): void };
  movingVariance: { read(): Tensor; write(t: Tensor): void };
  call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor;
}

let originalCall: BatchNormLayer["call"] | undefined;

function fusedCall(this: BatchNormLayer, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor {
  const input = Array.isArray(inputs) ? inputs[0] : inputs;
  const channelsLast = this.axis === -1 || this.axis === input.rank - 1;
  if (kwargs?.training !== true || !channelsLast || !this.center || !this.scale || input.dtype !== "float32")
    return originalCall!.call(this, inputs, kwargs);
  return tf.tidy(() => {
    const { y, mean, variance } = batchNormTraining(input, this.gamma.read(), this.beta.read(), this.epsilon);
    // tfjs-layers' doMovingAverage: v ← v − (v − value) · (1 − momentum).
    const movingAverage = (variable: BatchNormLayer["movingMean"], value: Tensor) =>
      tf.tidy(() => {
        const original = variable.read();
        variable.write(tf.sub(original, tf.mul(tf.sub(original, value), 1 - this.momentum)));
      });
    movingAverage(this.movingMean, mean);
    movingAverage(this.movingVariance, variance);
    tf.dispose([mean, variance]);
    return y;
  });
}

function batchNormPrototype(): BatchNormLayer | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization as
    [{ prototype: BatchNormLayer }, unknown] | undefined;
  return entry?.[0].prototype;
}

/** Makes every tfjs-layers BatchNormalization use `batchNormTraining` in training (idempotent). */
export function installFusedBatchNorm(): void {
  const prototype = batchNormPrototype();
  if (!prototype || prototype.call === fusedCall) return;
  originalCall = prototype.call;
  prototype.call = fusedCall;
}

/** Puts tfjs-layers' own training batch norm back (for tests comparing the two). */
export function restoreLayersBatchNorm(): void {
  const prototype = batchNormPrototype();
  if (prototype && originalCall && prototype.call === fusedCall) prototype.call = originalCall;
}
