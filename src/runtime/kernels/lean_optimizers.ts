/**
 * RMSProp's and SGD-with-momentum's updates with a small variable's whole update in one
 * kernel (update_kernels.ts: RMSPROP_UPDATE, MOMENTUM_UPDATE), as adam.ts does for Adam.
 * tfjs-core 4.22's RMSPropOptimizer runs 15 ops per variable (optimizers/rmsprop_optimizer.ts
 * computes the new mean square twice, once before its `centered` branch and again in it,
 * and uploads each of its five numbers as a new scalar at every use) and
 * MomentumOptimizer 4. EfficientNet-B0's 213 trainable variables are mostly batch-norm
 * scales and offsets, depthwise and squeeze-excite weights, where a kernel dispatch
 * (≈ 5 µs on wasm) costs more than the arithmetic: 156 of them are at most
 * FUSED_UPDATE_MAX_SIZE, so an RMSProp step dispatches 156 + 57 × 11 = 783 update ops
 * instead of 213 × 15 = 3,195, and momentum 156 + 57 × 4 = 384 instead of 852. The larger
 * variables keep tfjs's ops (SIMD on wasm), the mean square computed once and the scalars
 * made once per update.
 *
 * Same math in the same order as tfjs-core's, so updates are bit-identical (tested:
 * test/runtime/step_kernels.test.ts). Both already update one variable per tidy, so
 * memory is unchanged. Slots, their names and the serialised state are tfjs-core's own.
 * Centred RMSProp (not effnet's recipe) keeps tfjs's own update.
 */
import * as tf from "@tensorflow/tfjs";
import {
  applyGradientsPatch,
  eachGradient,
  fusedFor,
  slot,
  type Slot,
  type VariableGradients,
} from "./optimizer_updates.ts";
import { hasUpdateKernel, MOMENTUM_UPDATE, RMSPROP_UPDATE, runUpdateKernel } from "./update_kernels.ts";

/** The fields of tfjs-core's RMSPropOptimizer that its applyGradients reads and writes. */
interface RmspropInternals {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
  accumulatedMeanSquares: Slot[];
  accumulatedMoments: Slot[];
  incrementIterations(): void;
}

/** The fields of tfjs-core's MomentumOptimizer (and its SGDOptimizer base) that its applyGradients reads and writes. */
interface MomentumInternals {
  /** Scalars: −learning rate (SGDOptimizer.setLearningRate) and the momentum. */
  c: tf.Scalar;
  m: tf.Scalar;
  useNesterov: boolean;
  accumulations: Slot[];
  incrementIterations(): void;
}

function leanRmspropApplyGradients(this: RmspropInternals, variableGradients: VariableGradients): void {
  if (this.centered) return rmsprop.original().call(this, variableGradients);
  // tfjs-core uses these numbers in its ops: each becomes a float32 scalar.
  const numbers = {
    decay: this.decay,
    oneMinusDecay: 1 - this.decay,
    momentum: this.momentum,
    learningRate: this.learningRate,
    epsilon: this.epsilon,
  };
  const fused = hasUpdateKernel(RMSPROP_UPDATE);
  const attrs = Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, Math.fround(v)]));
  const c = tf.tidy(() => Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, tf.scalar(v)])));
  try {
    eachGradient(variableGradients, (value, gradient, i) => {
      const meanSquare = slot(this.accumulatedMeanSquares, i, value, "rms");
      const moment = slot(this.accumulatedMoments, i, value, "momentum");
      if (gradient == null) return;
      tf.tidy(() => {
        if (fusedFor(value, fused)) {
          const [newValue, newMeanSquare, newMoment] = runUpdateKernel(
            RMSPROP_UPDATE,
            [value, gradient, meanSquare, moment],
            attrs,
          );
          meanSquare.assign(newMeanSquare);
          moment.assign(newMoment);
          value.assign(newValue);
          return;
        }
        const newMeanSquare = tf.add(tf.mul(meanSquare, c.decay), tf.mul(tf.square(gradient), c.oneMinusDecay));
        const newMoment = tf.add(
          tf.mul(moment, c.momentum),
          tf.div(tf.mul(gradient, c.learningRate), tf.sqrt(tf.add(newMeanSquare, c.epsilon))),
        );
        meanSquare.assign(newMeanSquare);
        moment.assign(newMoment);
        value.assign(tf.sub(value, newMoment));
      });
    });
  } finally {
    tf.dispose(Object.values(c));
  }
  this.incrementIterations();
}

function leanMomentumApplyGradients(this: MomentumInternals, variableGradients: VariableGradients): void {
  const fused = hasUpdateKernel(MOMENTUM_UPDATE);
  const attrs: Record<string, number> = fused
    ? { momentum: this.m.dataSync()[0], minusLearningRate: this.c.dataSync()[0], nesterov: this.useNesterov ? 1 : 0 }
    : {};
  eachGradient(variableGradients, (value, gradient, i) => {
    const accumulation = slot(this.accumulations, i, value, "momentum");
    if (gradient == null) return;
    tf.tidy(() => {
      if (fusedFor(value, fused)) {
        const [newValue, newAccumulation] = runUpdateKernel(MOMENTUM_UPDATE, [value, gradient, accumulation], attrs);
        accumulation.assign(newAccumulation);
        value.assign(newValue);
        return;
      }
      const newAccumulation = tf.add(tf.mul(this.m, accumulation), gradient);
      const direction = this.useNesterov ? tf.add(gradient, tf.mul(newAccumulation, this.m)) : newAccumulation;
      accumulation.assign(newAccumulation);
      value.assign(tf.add(tf.mul(this.c, direction), value));
    });
  });
  this.incrementIterations();
}

const rmsprop = applyGradientsPatch(tf.RMSPropOptimizer, leanRmspropApplyGradients);
const momentum = applyGradientsPatch(tf.MomentumOptimizer, leanMomentumApplyGradients);

/** Makes every tf.train.rmsprop and tf.train.momentum optimizer use the one-kernel updates (idempotent). */
export function installLeanRmspropAndMomentum(): void {
  rmsprop.install();
  momentum.install();
}

/** Puts tfjs-core's own updates back (for tests comparing the two). */
export function restoreTfjsRmspropAndMomentum(): void {
  rmsprop.restore();
  momentum.restore();
}
