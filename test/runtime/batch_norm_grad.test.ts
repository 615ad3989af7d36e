/**
 * effnet's FusedBatchNorm gradient (src/runtime/kernels/batch_norm_grad.ts)
 * against tfjs-core's own (gradients/FusedBatchNorm_grad.ts), and a whole
 * Adam training step of a small ConvNet on wasm with every effnet kernel and
 * gradient against the same step on cpu with tfjs's originals only.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TRAINING_GRADIENTS,
  originalGradient,
  registerTrainingGradients,
  registerTrainingKernels,
  restoreOriginalGradients,
  restoreOriginalKernels,
} from "../../src/runtime/kernels/index.ts";
import { fusedBatchNormGradConfig } from "../../src/runtime/kernels/batch_norm_grad.ts";
import { installFusedBatchNorm, restoreLayersBatchNorm } from "../../src/runtime/kernels/batch_norm_training.ts";
import { seededValues, expectClose, useBackend, type Values } from "../helpers/numeric.ts";

function seededTensor(shape: number[], seed: number, scale = 1, shift = 0): tf.Tensor {
  const values = seededValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ).map((v) => v * scale + shift);
  return tf.tensor(values, shape);
}

interface BatchNormCase {
  name: string;
  shape: [number, number, number, number];
  /** 'training': mean and variance are tf.moments(x), so gradients also flow through them. */
  statistics: "training" | "inputs";
}

/**
 * Through tf.grads. Always with scale and offset: tfjs-core 4.22 cannot
 * record a batchNorm without them on the tape at all (an undefined offset
 * breaks getFilteredNodesXToY; on wasm, saving an undefined scale for the
 * backward pass throws), whichever gradient is registered. The scale-less
 * branch of the gradient is checked by calling the gradient functions
 * directly (below).
 */
const BN_CASES: BatchNormCase[] = [
  { name: "training mode", shape: [3, 7, 5, 6], statistics: "training" },
  { name: "training mode, 9x9", shape: [2, 9, 9, 4], statistics: "training" },
  { name: "training mode, 1x1 spatial (SE-like)", shape: [4, 1, 1, 8], statistics: "training" },
  { name: "statistics as inputs", shape: [2, 6, 6, 5], statistics: "inputs" },
];

const EPSILON = 1e-3;

function batchNormInputs(shape: number[]) {
  const channels = shape[3];
  return {
    x: seededTensor(shape, 1, 2, 0.5), // non-zero mean, so that x − mean matters
    scale: seededTensor([channels], 2, 0.5, 1),
    offset: seededTensor([channels], 3),
    mean: seededTensor([channels], 4, 0.3, 0.5),
    variance: seededTensor([channels], 5, 0.5, 1),
    upstream: seededTensor(shape, 6),
  };
}

/**
 * Gradients of Σ batchNorm(x, …) ⊙ upstream with respect to x, scale and
 * offset (training mode), or to all five inputs (statistics as inputs).
 */
function batchNormGradients(c: BatchNormCase): Values[] {
  return tf.tidy(() => {
    const { x, scale, offset, mean, variance, upstream } = batchNormInputs(c.shape);
    const args = c.statistics === "training" ? [x, scale, offset] : [x, scale, offset, mean, variance];
    const f = (...inputs: tf.Tensor[]) => {
      const stats =
        c.statistics === "training" ? tf.moments(inputs[0], [0, 1, 2]) : { mean: inputs[3], variance: inputs[4] };
      const y = tf.batchNorm(inputs[0], stats.mean, stats.variance, inputs[2], inputs[1], EPSILON);
      return tf.sum(tf.mul(y, upstream));
    };
    return tf
      .grads(f)(args)
      .map((g) => ({ shape: g.shape, values: g.dataSync() as Float32Array }));
  });
}

/** All five derivatives from a gradient config called directly, as the engine does; `scale` may be left out. */
function gradFuncDerivatives(config: tf.GradConfig, shape: number[], withScale: boolean): Values[] {
  return tf.tidy(() => {
    const { x, scale, mean, variance, upstream } = batchNormInputs(shape);
    const derivatives = config.gradFunc(upstream, [x, mean, variance, withScale ? scale : undefined] as tf.Tensor[], {
      varianceEpsilon: EPSILON,
    });
    return ["x", "scale", "offset", "mean", "variance"].map((name) => {
      const d = derivatives[name]();
      return { shape: d.shape, values: d.dataSync() as Float32Array };
    });
  });
}

describe("FusedBatchNorm gradient", () => {
  afterAll(() => registerTrainingGradients());

  it("is in the gradient table and replaces tfjs-core’s, reversibly", () => {
    expect(TRAINING_GRADIENTS.map((row) => row.kernelName)).toEqual([
      "FusedBatchNorm",
      "Add",
      "Sub",
      "Multiply",
      "Square",
      "Mean",
    ]);
    restoreOriginalGradients();
    const tfjsOriginal = tf.getGradient("FusedBatchNorm");
    expect(tfjsOriginal).toBeDefined();
    expect(tfjsOriginal).not.toBe(fusedBatchNormGradConfig);

    expect(registerTrainingGradients()).toEqual(["FusedBatchNorm", "Add", "Sub", "Multiply", "Square", "Mean"]);
    expect(tf.getGradient("FusedBatchNorm")).toBe(fusedBatchNormGradConfig);
    registerTrainingGradients(); // idempotent
    expect(originalGradient("FusedBatchNorm")).toBe(tfjsOriginal);

    restoreOriginalGradients();
    expect(tf.getGradient("FusedBatchNorm")).toBe(tfjsOriginal);
    restoreOriginalGradients(); // a second restore is a no-op
    expect(tf.getGradient("FusedBatchNorm")).toBe(tfjsOriginal);

    registerTrainingKernels("cpu"); // the entry point installs the gradients too
    expect(tf.getGradient("FusedBatchNorm")).toBe(fusedBatchNormGradConfig);
  });

  for (const backendName of ["cpu", "wasm"] as const) {
    describe(`on ${backendName}: same gradients as tfjs-core's`, () => {
      beforeAll(() => useBackend(backendName));
      for (const c of BN_CASES) {
        it(c.name, () => {
          restoreOriginalGradients();
          const expected = batchNormGradients(c);
          registerTrainingGradients();
          const actual = batchNormGradients(c);
          expect(actual.length).toBe(expected.length);
          const names = ["x", "scale", "offset", "mean", "variance"];
          actual.forEach((a, i) => expectClose(a, expected[i], `d ${names[i]}`));
        });
      }

      for (const withScale of [true, false]) {
        it(`gradient functions called directly, ${withScale ? "with" : "without"} scale`, () => {
          const expected = gradFuncDerivatives(originalGradient("FusedBatchNorm")!, [2, 5, 4, 3], withScale);
          const actual = gradFuncDerivatives(fusedBatchNormGradConfig, [2, 5, 4, 3], withScale);
          const names = ["x", "scale", "offset", "mean", "variance"];
          actual.forEach((a, i) => expectClose(a, expected[i], `d ${names[i]}`));
        });
      }

      it("leaks no tensors", () => {
        registerTrainingGradients();
        batchNormGradients(BN_CASES[0]);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) batchNormGradients(BN_CASES[0]);
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  }
});

describe("an Adam training step, old path against new", () => {
  /** conv → BN → swish → depthwise/2 → BN → swish → SE-style 1×1 conv → BN → global pool → dense softmax. */
  function buildModel(): tf.LayersModel {
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential();
    model.add(
      tf.layers.conv2d({
        inputShape: [12, 12, 3],
        filters: 8,
        kernelSize: 3,
        padding: "same",
        useBias: false,
        kernelInitializer: seeded(1),
      }),
    );
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: "swish" }));
    model.add(
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        strides: 2,
        padding: "same",
        useBias: false,
        depthwiseInitializer: seeded(2),
      }),
    );
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: "swish" }));
    model.add(tf.layers.conv2d({ filters: 12, kernelSize: 1, useBias: false, kernelInitializer: seeded(3) }));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.globalAveragePooling2d({}));
    model.add(tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: seeded(4) }));
    model.compile({ optimizer: tf.train.adam(1e-2), loss: "categoricalCrossentropy" });
    return model;
  }

  const STEPS = 3;

  /** Weights after STEPS Adam steps (trainOnBatch) on a fixed batch, and the losses. */
  async function train(path: "old" | "new"): Promise<{ weights: Values[]; losses: number[] }> {
    if (path === "old") {
      // tfjs's own kernels and gradients throughout: cpu, the only backend with all of them.
      await useBackend("cpu");
      restoreOriginalKernels("cpu");
      restoreOriginalGradients();
    } else {
      await useBackend("wasm");
      registerTrainingKernels("wasm");
    }
    const model = buildModel();
    const images = seededTensor([6, 12, 12, 3], 7, 1, 0.2);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], "int32"), 4);
    try {
      const losses: number[] = [];
      for (let step = 0; step < STEPS; step++) losses.push((await model.trainOnBatch(images, labels)) as number);
      const weights = model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
      return { weights, losses };
    } finally {
      model.dispose();
      tf.dispose([images, labels]);
      registerTrainingKernels("cpu");
    }
  }

  it("gives the same losses and weights", async () => {
    const old = await train("old");
    const updated = await train("new");
    for (let step = 0; step < STEPS; step++) {
      expect(Math.abs(updated.losses[step] - old.losses[step]), `loss of step ${step}`).toBeLessThan(
        1e-4 * old.losses[step],
      );
    }
    expect(updated.weights.length).toBe(old.weights.length);
    // Adam moves every weight by ≈ lr·sign(gradient) in its first steps, so
    // the weights are compared with an absolute tolerance of 1e-4·lr per step:
    // a flipped sign, or a gradient off by more than rounding, exceeds it.
    const tolerance = 1e-4 * 1e-2 * STEPS;
    old.weights.forEach((expected, i) => {
      const actual = updated.weights[i];
      expect(actual.shape).toEqual(expected.shape);
      let worst = 0;
      for (let j = 0; j < expected.values.length; j++)
        worst = Math.max(worst, Math.abs(actual.values[j] - expected.values[j]));
      expect(worst, `weight #${i} ${expected.shape}`).toBeLessThanOrEqual(tolerance);
    });
  });
});

describe("training-mode BatchNormalization as one op (batch_norm_training.ts)", () => {
  beforeAll(async () => {
    await useBackend("wasm");
    registerTrainingKernels("wasm");
  });
  afterAll(() => installFusedBatchNorm());

  /** One training-mode call of a BatchNormalization layer: output, d(Σ y·r)/d(x, γ, β), the moving statistics after it. */
  function layerStep(fused: boolean, shape: number[]) {
    if (fused) installFusedBatchNorm();
    else restoreLayersBatchNorm();
    const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    layer.build(shape);
    layer.setWeights([
      seededTensor([shape.at(-1)!], 7, 0.5, 1),
      seededTensor([shape.at(-1)!], 8, 0.5),
      seededTensor([shape.at(-1)!], 9, 0.2),
      seededTensor([shape.at(-1)!], 10, 0.2, 1),
    ]);
    const x = seededTensor(shape, 3, 2, 0.7);
    const upstream = seededTensor(shape, 4);
    const values = (t: tf.Tensor): Values => ({ shape: t.shape, values: t.dataSync() as Float32Array });
    const y = values(tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor));
    const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(layer.apply(tf.mul(x, 1), { training: true }) as tf.Tensor, upstream)) as tf.Scalar,
      [gamma, beta],
    );
    const dx = tf.grad((input: tf.Tensor) =>
      tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, upstream)),
    )(x);
    const result = {
      y,
      dx: values(dx),
      dGamma: values(grads[gamma.name]),
      dBeta: values(grads[beta.name]),
      moving: layer.getWeights().slice(2).map(values),
    };
    tf.dispose([x, upstream, dx, ...Object.values(grads)]);
    layer.weights.forEach((w) => w.dispose());
    return result;
  }

  for (const shape of [
    [4, 6, 5, 8],
    [3, 2, 2, 16],
    [6, 12],
  ]) {
    it(`${shape.join("×")}: output, gradients and moving statistics as tfjs-layers' own`, () => {
      const theirs = layerStep(false, shape);
      const ours = layerStep(true, shape);
      expectClose(ours.y, theirs.y, "y");
      expectClose(ours.dx, theirs.dx, "dx");
      expectClose(ours.dGamma, theirs.dGamma, "dγ");
      expectClose(ours.dBeta, theirs.dBeta, "dβ");
      ours.moving.forEach((m, i) => expectClose(m, theirs.moving[i], i === 0 ? "moving mean" : "moving variance"));
    });
  }
});
