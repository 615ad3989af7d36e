/**
 * What a training step keeps alive (src/runtime/kernels/backprop.ts, swish.ts, batch_norm_training.ts, sharing.ts and
 * src/runtime/release.ts): the same gradients as tfjs's own backward pass, swish and
 * float32→float32 Cast, at 1e-4 (in practice float32 rounding), no tensor left behind,
 * and a lower peak of live tensor bytes.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.ts";
import { trackLiveBytes } from "../../src/runtime/heap.ts";
import {
  installLeanBackprop,
  isLeanBackpropInstalled,
  restoreOriginalBackprop,
} from "../../src/runtime/kernels/backprop.ts";
import { installFusedSwish, restoreLayersSwish, swish } from "../../src/runtime/kernels/swish.ts";
import { installLeanAdam, restoreTfjsAdam } from "../../src/runtime/kernels/adam.ts";
import { installFusedBatchNorm, restoreLayersBatchNorm } from "../../src/runtime/kernels/batch_norm_training.ts";
import { originalKernel, registerTrainingKernels, TRAINING_REPLACEMENTS } from "../../src/runtime/kernels/index.ts";
import { releaseLayerOutputsEarly } from "../../src/runtime/release.ts";
import { expectClose, seededValues, type Values } from "../helpers/numeric.ts";

const seeded = (shape: number[], seed: number) =>
  tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** One MBConv-like block and a classifier, from tf.layers, with what B0 trains through: batch norm, swish, depthwise, squeeze-excite, a residual. No dropout, so runs repeat exactly. */
function smallNet(): tf.LayersModel {
  type T = tf.SymbolicTensor;
  const input = tf.input({ shape: [12, 12, 3] });
  const bn = (x: T) => tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }).apply(x) as T;
  const act = (x: T) => tf.layers.activation({ activation: "swish" }).apply(x) as T;
  const stem = act(
    bn(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false }).apply(input) as T),
  );
  let x = act(bn(tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false }).apply(stem) as T));
  x = act(bn(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false }).apply(x) as T));
  let se = tf.layers.globalAveragePooling2d({}).apply(x) as T;
  se = tf.layers.reshape({ targetShape: [1, 1, 16] }).apply(se) as T;
  se = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: "swish" }).apply(se) as T;
  se = tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: "sigmoid" }).apply(se) as T;
  x = tf.layers.multiply().apply([x, se]) as T;
  x = bn(tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }).apply(x) as T);
  x = tf.layers.add().apply([x, stem]) as T;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as T;
  const output = tf.layers.dense({ units: 3, activation: "softmax" }).apply(x) as T;
  const model = tf.model({ inputs: input, outputs: output });
  // Seeded weights (moving variances positive), so that every run compares the same numbers.
  const weights = model.weights.map((w, i) => {
    const values = seeded(w.shape as number[], 100 + i);
    return w.name.includes("moving_variance") ? tf.add(tf.abs(values), 0.5) : tf.mul(values, 0.5);
  });
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** |a − b| ≤ 1e-4 · max|b| for every entry. */
function expectCloseToScale(actual: Values, expected: Values, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const worst = expected.values.reduce((m, v, i) => Math.max(m, Math.abs(actual.values[i] - v)), 0);
  expect(worst, what).toBeLessThanOrEqual(1e-4 * scale);
}

function lossGradients(model: tf.LayersModel, images: tf.Tensor, labels: tf.Tensor): Values[] {
  const { value, grads } = tf.variableGrads(() =>
    tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }) as tf.Tensor),
  );
  const result = model.trainableWeights.map((w) => {
    const g = grads[(w.read() as tf.Variable).name];
    return { shape: g.shape, values: g.dataSync() as Float32Array };
  });
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

beforeAll(async () => {
  tf.enableProdMode();
  await selectBackend("wasm");
});
afterAll(() => {
  installLeanBackprop();
  installFusedSwish();
  installFusedBatchNorm();
});

describe("the lean backward pass", () => {
  const images = seeded([4, 12, 12, 3], 3);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3);
  const model = smallNet();
  afterAll(() => {
    tf.dispose([images, labels]);
    model.dispose();
  });

  function run(lean: boolean) {
    if (lean) {
      installLeanBackprop();
      installFusedSwish();
      installFusedBatchNorm();
    } else {
      restoreOriginalBackprop();
      restoreLayersSwish();
      restoreLayersBatchNorm();
    }
    const before = tf.memory().numTensors;
    const tracker = trackLiveBytes();
    try {
      const grads = lossGradients(model, images, labels);
      return { grads, peak: tracker.peak().peakBytes, leaked: tf.memory().numTensors - before };
    } finally {
      tracker.stop();
    }
  }

  it("gives tfjs's gradients for every weight, leaves nothing behind, and peaks lower", () => {
    const theirs = run(false);
    const ours = run(true);
    expect(isLeanBackpropInstalled()).toBe(true);
    expect(ours.grads).toHaveLength(model.trainableWeights.length);
    // Through the whole net, with batch norm's sums in another order (batch_norm_training.ts), entries far
    // below a tensor's largest differ by float32 rounding of that largest: 1e-4 of the tensor's scale.
    ours.grads.forEach((g, i) => expectCloseToScale(g, theirs.grads[i], model.trainableWeights[i].name));
    expect(ours.leaked).toBe(0);
    expect(theirs.leaked).toBe(0);
    expect(ours.peak).toBeLessThan(theirs.peak * 0.75);
  });

  it("higher-order gradients still work (saved tensors stay for the outer tape)", () => {
    installLeanBackprop();
    const x = tf.tensor1d([0.5, -1, 2]);
    const second = tf.grad((v: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(u, tf.mul(u, u))))(v));
    // d²/dx² Σx³ summed: 6x
    expectClose(
      { shape: [3], values: second(x).dataSync() as Float32Array },
      { shape: [3], values: new Float32Array([3, -6, 12]) },
      "6x",
    );
    x.dispose();
  });
});

describe("TRAINING_REPLACEMENTS", () => {
  it("are installed by registerTrainingKernels, and each restores tfjs's original and back", () => {
    for (const row of TRAINING_REPLACEMENTS) row.restore();
    expect(isLeanBackpropInstalled()).toBe(false);
    registerTrainingKernels("wasm");
    expect(isLeanBackpropInstalled()).toBe(true);
    expect(TRAINING_REPLACEMENTS.map((r) => r.replaces)).toHaveLength(6);
  });
});

describe("fused swish", () => {
  it("equals x·σ(x) and its gradient tfjs's, at 1e-4", () => {
    const x = seeded([2, 5, 4, 3], 9).mul(4);
    const dy = seeded([2, 5, 4, 3], 10);
    const f = (g: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(g(t), dy)));
    const reference = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));
    const values = (t: tf.Tensor) => ({ shape: t.shape, values: t.dataSync() as Float32Array });
    expectClose(values(swish(x)), values(reference(x)), "swish");
    expectClose(values(f(swish)(x)), values(f(reference)(x)), "d swish");
    tf.dispose([x, dy]);
  });
});

describe("Adam, one variable at a time", () => {
  it("updates bit-identically to tfjs's Adam over a few steps, with fewer bytes alive at once", () => {
    const run = (lean: boolean) => {
      if (lean) installLeanAdam();
      else restoreTfjsAdam();
      const variables = [
        seeded([40, 30], 1).variable(),
        seeded([30], 2).variable(),
        seeded([3, 3, 8, 16], 3).variable(),
      ];
      const optimizer = tf.train.adam(0.01);
      const tracker = trackLiveBytes();
      const start = tracker.live();
      for (let step = 0; step < 3; step++) {
        const grads = variables.map((v, i) => seeded(v.shape, 10 * step + i));
        optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i] })));
        tf.dispose(grads);
      }
      tracker.stop();
      const values = variables.map((v) => Array.from(v.dataSync()));
      const weights = optimizer.getWeights().then((w) => w.map((x) => x.name));
      optimizer.dispose();
      tf.dispose(variables);
      return { values, peak: tracker.peak().peakBytes - start, weights };
    };
    const theirs = run(false);
    const ours = run(true);
    expect(ours.values).toEqual(theirs.values);
    expect(ours.peak).toBeLessThan(theirs.peak);
    return Promise.all([ours.weights, theirs.weights]).then(([a, b]) => expect(a.length).toBe(b.length));
  });
});

describe("wasm Identity", () => {
  it("clones by sharing the buffer, which outlives the original", () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const copy = x.clone();
    expect(copy.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4]);
    copy.dispose();
    const strings = tf.tensor1d(["a", "b"]);
    expect(strings.clone().arraySync()).toEqual(["a", "b"]);
  });
});

describe("wasm Cast", () => {
  it("shares the buffer of a cast to the same dtype, and converts others as tfjs does", () => {
    const x = tf.tensor1d([1.5, -2.25, 3]);
    const same = tf.cast(x, "float32");
    expect(tf.memory().numDataBuffers).toBeGreaterThan(0);
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.25, 3]);
    expect(same.dataId).toBe(x.dataId);
    const toInt = tf.cast(x, "int32");
    expect(toInt.dtype).toBe("int32");
    expect(Array.from(toInt.dataSync())).toEqual([1, -2, 3]);
    expect(originalKernel(tf.Cast, "wasm")).toBeDefined();
    x.dispose();
    expect(Array.from(same.dataSync()), "the shared buffer outlives the first owner").toEqual([1.5, -2.25, 3]);
    tf.dispose([same, toInt]);
  });
});

describe("releaseLayerOutputsEarly", () => {
  it("trains to the same losses with less alive at once", async () => {
    const images = seeded([4, 12, 12, 3], 5);
    const labels = tf.oneHot(tf.tensor1d([2, 0, 1, 1], "int32"), 3).toFloat();
    const plain = smallNet();
    const released = smallNet();
    released.setWeights(plain.getWeights());
    releaseLayerOutputsEarly(released);
    const losses = async (model: tf.LayersModel) => {
      model.compile({ optimizer: tf.train.adam(1e-2), loss: "categoricalCrossentropy" });
      const tracker = trackLiveBytes();
      const start = tracker.live();
      const result: number[] = [];
      for (let i = 0; i < 3; i++) result.push((await model.trainOnBatch(images, labels)) as number);
      tracker.stop();
      return { result, peak: tracker.peak().peakBytes - start };
    };
    const before = tf.memory().numTensors;
    const a = await losses(plain);
    const afterPlain = tf.memory().numTensors;
    const b = await losses(released);
    expect(b.result).toEqual(a.result);
    expect(b.peak).toBeLessThan(a.peak);
    // Adam's slots (2 per weight) and its iteration counter are the only new tensors.
    expect(tf.memory().numTensors - afterPlain).toBe(afterPlain - before);
    tf.dispose([images, labels]);
    plain.dispose();
    released.dispose();
  });
});
