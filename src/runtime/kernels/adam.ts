/**
 * Adam's update one variable at a time: tfjs-core 4.22's `AdamOptimizer.applyGradients`
 * (optimizers/adam_optimizer.ts) with the same math in the same order, so updates are
 * bit-identical, but
 *  - each variable's update runs in its own tidy. tfjs-core runs the whole update in one
 *    tidy, so the ~8 temporaries of every variable (new moments, bias corrections, the
 *    step) stay alive until the last variable is done: about 8 × the model's size at once,
 *    the peak of the whole training step at small batches (EfficientNet-B0: ~180 MiB over
 *    its 21 MiB of parameters; B4: ~600 MiB). Here that is 8 × the largest variable;
 *  - the scalars (β₁, 1 − β₁, β₂, 1 − β₂, ε, −learning rate) are made once per update, not
 *    once per variable and use (six uploads per variable).
 *  - a small variable's whole update is one call of effnet's Adam kernel
 *    (update_kernels.ts, where the backend has it: wasm and cpu) instead of 11 ops, with
 *    the same float32 results. Only small ones: the kernel is a scalar JavaScript loop
 *    (≈ 9 ns per value on this machine) where wasm's ops are SIMD (≈ 0.8 ns per value
 *    and op) but cost ≈ 5 µs each to dispatch. Measured per variable on wasm, 11 ops vs
 *    the kernel: 16 values 166 vs 44 µs, 1,024 values 62 vs 22 µs, 4,096 values 57 vs
 *    47 µs, 16,384 values 93 vs 172 µs. EfficientNet-B0 has 213 trainable variables, most
 *    of them batch-norm scales and offsets, depthwise and squeeze-excite weights below
 *    FUSED_UPDATE_MAX_SIZE. On wasm with WebAssembly SIMD the kernel is a SIMD loop
 *    (simd_loops.ts adamLoop, the same float32 operations four lanes at a time) and takes
 *    every variable: one pass over the variable, its gradient and its moments instead of
 *    11 ops with a full pass and an allocation each.
 * Slots, their names and the serialised state are tfjs-core's own, so checkpoints and
 * `getWeights` are unchanged.
 */
import * as tf from "@tensorflow/tfjs";
import type { Variable } from "@tensorflow/tfjs";
import {
  applyGradientsPatch,
  eachGradient,
  fusedFor,
  slot,
  type Slot,
  type VariableGradients,
} from "./optimizer_updates.ts";
import { ADAM_UPDATE, hasSimdUpdateKernel, hasUpdateKernel, runUpdateKernel } from "./update_kernels.ts";

export { FUSED_UPDATE_MAX_SIZE } from "./optimizer_updates.ts";

/** The fields of tfjs-core's AdamOptimizer that its applyGradients reads and writes. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}

function leanApplyGradients(this: AdamInternals, variableGradients: VariableGradients): void {
  const constants = tf.tidy(() => ({
    oneMinusAccBeta1: tf.sub(1, this.accBeta1),
    oneMinusAccBeta2: tf.sub(1, this.accBeta2),
    beta1: tf.scalar(this.beta1),
    oneMinusBeta1: tf.scalar(1 - this.beta1),
    beta2: tf.scalar(this.beta2),
    oneMinusBeta2: tf.scalar(1 - this.beta2),
    epsilon: tf.scalar(this.epsilon),
    minusLearningRate: tf.scalar(-this.learningRate),
  }));
  // The same float32 scalars for the one-kernel update (see update_kernels.ts).
  const fused = hasUpdateKernel(ADAM_UPDATE);
  const anySize = hasSimdUpdateKernel(ADAM_UPDATE);
  const fusedAttrs: Record<string, number> = fused
    ? {
        beta1: Math.fround(this.beta1),
        oneMinusBeta1: Math.fround(1 - this.beta1),
        beta2: Math.fround(this.beta2),
        oneMinusBeta2: Math.fround(1 - this.beta2),
        oneMinusAccBeta1: constants.oneMinusAccBeta1.dataSync()[0],
        oneMinusAccBeta2: constants.oneMinusAccBeta2.dataSync()[0],
        epsilon: Math.fround(this.epsilon),
        minusLearningRate: Math.fround(-this.learningRate),
      }
    : {};
  try {
    eachGradient(variableGradients, (value, gradient, i) => {
      const firstMoment = slot(this.accumulatedFirstMoment, i, value, "m");
      const secondMoment = slot(this.accumulatedSecondMoment, i, value, "v");
      if (gradient == null) return;
      tf.tidy(() => {
        const c = constants;
        if (fusedFor(value, fused, anySize)) {
          const [newValue, newFirst, newSecond] = runUpdateKernel(
            ADAM_UPDATE,
            [value, gradient, firstMoment, secondMoment],
            fusedAttrs,
          );
          firstMoment.assign(newFirst);
          secondMoment.assign(newSecond);
          value.assign(newValue);
          return;
        }
        const newFirstMoment = tf.add(tf.mul(firstMoment, c.beta1), tf.mul(gradient, c.oneMinusBeta1));
        const newSecondMoment = tf.add(tf.mul(secondMoment, c.beta2), tf.mul(tf.square(gradient), c.oneMinusBeta2));
        const biasCorrectedFirstMoment = tf.div(newFirstMoment, c.oneMinusAccBeta1);
        const biasCorrectedSecondMoment = tf.div(newSecondMoment, c.oneMinusAccBeta2);
        firstMoment.assign(newFirstMoment);
        secondMoment.assign(newSecondMoment);
        const step = tf.mul(
          tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), c.epsilon)),
          c.minusLearningRate,
        );
        value.assign(tf.add(step, value));
      });
    });
    tf.tidy(() => {
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
  } finally {
    tf.dispose(Object.values(constants));
  }
  this.incrementIterations();
}

const patch = applyGradientsPatch(tf.AdamOptimizer, leanApplyGradients);

/** Makes every tf.train.adam optimizer update one variable at a time (idempotent). */
export const installLeanAdam = (): void => patch.install();

/** Puts tfjs-core's own Adam update back (for tests comparing the two). */
export const restoreTfjsAdam = (): void => patch.restore();
