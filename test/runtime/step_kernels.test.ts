/**
 * The kernels and replacements that make a training step cheaper (src/runtime/kernels:
 * update_kernels.ts, adam.ts, matmul.ts, conv_layer.ts, swish.ts), each against tfjs's
 * own; and the whole of EfficientNet-B0's gradients with every effnet replacement on wasm
 * against tfjs's unreplaced ones (tfjs-backend-cpu's kernels and tfjs-core's gradients,
 * since tfjs-backend-wasm alone cannot differentiate a depthwise convolution).
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../../generated/efficientnet/b0.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { setLearningRate } from "../../src/runtime/optimizers.ts";
import {
  TRAINING_REPLACEMENTS,
  registerTrainingKernels,
  restoreOriginalGradients,
  restoreOriginalKernels,
} from "../../src/runtime/kernels/index.ts";
import { FUSED_UPDATE_MAX_SIZE, installLeanAdam, restoreTfjsAdam } from "../../src/runtime/kernels/adam.ts";
import { installPlainConv2d, restoreLayersConv2d } from "../../src/runtime/kernels/conv_layer.ts";
import {
  installLeanRmspropAndMomentum,
  restoreTfjsRmspropAndMomentum,
} from "../../src/runtime/kernels/lean_optimizers.ts";
import { ADAM_UPDATE, MOMENTUM_UPDATE, RMSPROP_UPDATE } from "../../src/runtime/kernels/update_kernels.ts";
import { expectClose, seededValues, useBackend, type Values } from "../helpers/numeric.ts";

const seeded = (shape: number[], seed: number) =>
  tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
const valuesOf = (t: tf.Tensor): Values => ({ shape: t.shape, values: t.dataSync() as Float32Array });

/** |a − b| ≤ 1e-4 · max|b| for every entry (a whole network's gradients: entries far below a tensor's largest differ by its rounding). */
function expectCloseToScale(actual: Values, expected: Values, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const worst = expected.values.reduce((m, v, i) => Math.max(m, Math.abs(actual.values[i] - v)), 0);
  expect(worst, what).toBeLessThanOrEqual(1e-4 * scale);
}

/**
 * ‖a − b‖₂ ≤ tolerance · ‖b‖₂: a whole network's gradient tensors, compared as vectors. Entries are sums
 * over a deep net whose summation order differs (XNNPACK against JavaScript loops, closed forms against
 * tfjs's op chains); single entries far below a tensor's largest carry that largest's rounding.
 */
function expectNormClose(actual: Values, expected: Values, what: string, tolerance: number): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  let difference = 0;
  let norm = 0;
  expected.values.forEach((v, i) => {
    difference += (actual.values[i] - v) ** 2;
    norm += v ** 2;
  });
  expect(Math.sqrt(difference), what).toBeLessThanOrEqual(tolerance * Math.sqrt(norm));
}

/** Names of the kernels run by `f`, once per call. */
function kernelsRun(f: () => tf.TensorContainer): Promise<string[]> {
  return tf.profile(f).then((info) => info.kernels.map((k) => k.name));
}

beforeAll(async () => {
  tf.enableProdMode();
  await selectBackend("wasm");
});

describe("Adam's one-kernel update (update_kernels.ts)", () => {
  afterAll(() => installLeanAdam());

  for (const backendName of ["wasm", "cpu"] as const) {
    it(`on ${backendName}: bit-identical to tfjs-core's Adam over steps, ${backendName === "wasm" ? "every variable through the SIMD kernel" : "small variables through the kernel"}`, async () => {
      await useBackend(backendName);
      registerTrainingKernels(backendName);
      const shapes = [[40, 30], [30], [3, 3, 8, 16], [FUSED_UPDATE_MAX_SIZE + 1]];
      const run = async (lean: boolean) => {
        if (lean) installLeanAdam();
        else restoreTfjsAdam();
        const variables = shapes.map((shape, i) => seeded(shape, i + 1).variable());
        const optimizer = tf.train.adam(0.01);
        let kernels: string[] = [];
        for (let step = 0; step < 3; step++) {
          const grads = variables.map((v, i) => seeded(v.shape, 10 * step + i).mul(step + 1));
          const names = await kernelsRun(() =>
            optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i] }))),
          );
          kernels = [...kernels, ...names];
          tf.dispose(grads);
        }
        const values = variables.map((v) => Array.from(v.dataSync()));
        const state = (await optimizer.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
        optimizer.dispose();
        tf.dispose(variables);
        return { values, state, kernels };
      };
      const theirs = await run(false);
      const ours = await run(true);
      expect(ours.values).toEqual(theirs.values);
      expect(ours.state).toEqual(theirs.state);
      // On cpu three small variables per step through the kernel, the large one through tfjs's ops;
      // on wasm the kernel is a SIMD loop (simd_loops.ts) and takes all four, the large one's last
      // FUSED_UPDATE_MAX_SIZE + 1 ≡ 1 (mod 4) value by the JavaScript loop.
      expect(ours.kernels.filter((k) => k === ADAM_UPDATE.kernelName)).toHaveLength(backendName === "wasm" ? 12 : 9);
      expect(theirs.kernels).not.toContain(ADAM_UPDATE.kernelName);
      await useBackend("wasm");
    });
  }
});

describe("RMSProp's and momentum's one-kernel updates (lean_optimizers.ts)", () => {
  afterAll(() => installLeanRmspropAndMomentum());
  const optimizers = [
    // effnet's RMSProp recipe (optimizers.ts): decay 0.9, momentum 0.9, ε 1e-3.
    { name: "rmsprop", kernel: RMSPROP_UPDATE, create: () => tf.train.rmsprop(0.01, 0.9, 0.9, 1e-3) },
    { name: "momentum", kernel: MOMENTUM_UPDATE, create: () => tf.train.momentum(0.05, 0.9) },
    { name: "Nesterov momentum", kernel: MOMENTUM_UPDATE, create: () => tf.train.momentum(0.05, 0.9, true) },
  ];
  for (const backendName of ["wasm", "cpu"] as const)
    for (const { name, kernel, create } of optimizers)
      it(`${name} on ${backendName}: bit-identical to tfjs-core's over steps, small variables through the kernel`, async () => {
        await useBackend(backendName);
        registerTrainingKernels(backendName);
        const shapes = [[40, 30], [30], [3, 3, 8, 16], [FUSED_UPDATE_MAX_SIZE + 1]];
        const run = async (lean: boolean) => {
          if (lean) installLeanRmspropAndMomentum();
          else restoreTfjsRmspropAndMomentum();
          const variables = shapes.map((shape, i) => seeded(shape, i + 1).variable());
          const optimizer = create();
          let kernels: string[] = [];
          for (let step = 0; step < 3; step++) {
            // A schedule's new learning rate between steps (train.ts's setLearningRate).
            if (step === 2) setLearningRate(optimizer, 0.02);
            const grads = variables.map((v, i) => seeded(v.shape, 10 * step + i).mul(step + 1));
            const names = await kernelsRun(() =>
              optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i] }))),
            );
            kernels = [...kernels, ...names];
            tf.dispose(grads);
          }
          const values = variables.map((v) => Array.from(v.dataSync()));
          const state = (await optimizer.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
          optimizer.dispose();
          tf.dispose(variables);
          return { values, state, kernels };
        };
        const theirs = await run(false);
        const ours = await run(true);
        expect(ours.values).toEqual(theirs.values);
        expect(ours.state).toEqual(theirs.state);
        expect(ours.kernels.filter((k) => k === kernel.kernelName)).toHaveLength(9);
        expect(theirs.kernels).not.toContain(kernel.kernelName);
        await useBackend("wasm");
      });
});

describe("wasm BatchMatMul with transposed operands (matmul.ts)", () => {
  const shapes: [number[], number[], boolean, boolean][] = [
    [[4, 37], [23, 37], false, true], // a dense layer's dx: dy·Wᵀ (the result is the cheap side)
    [[4, 37], [4, 23], true, false], // its dW: xᵀ·dy
    [[37, 4], [23, 37], true, true],
    [[1, 5, 300], [1, 7, 300], false, true], // rank 3, one batch
    [[300, 40], [7, 40], false, true], // the transposed operand is the cheap side
  ];
  for (const [aShape, bShape, transposeA, transposeB] of shapes) {
    it(`[${aShape}]${transposeA ? "ᵀ" : ""}·[${bShape}]${transposeB ? "ᵀ" : ""} equals tfjs-backend-wasm's own at 1e-4`, async () => {
      const a = seeded(aShape, 1);
      const b = seeded(bShape, 2);
      const ours = tf.matMul(a, b, transposeA, transposeB);
      expect(await kernelsRun(() => tf.matMul(a, b, transposeA, transposeB))).toContain("Transpose");
      restoreOriginalKernels("wasm");
      const reference = tf.matMul(a, b, transposeA, transposeB);
      expect(await kernelsRun(() => tf.matMul(a, b, transposeA, transposeB))).not.toContain("Transpose");
      registerTrainingKernels("wasm");
      expectClose(valuesOf(ours), valuesOf(reference), "product");
      tf.dispose([a, b, ours, reference]);
    });
  }
});

describe("wasm depthwise gradients by WebAssembly SIMD loops (depthwise_simd.ts, simd_loops.ts)", () => {
  // Their values are checked against tfjs-backend-cpu's kernels in kernels.test.ts (the "(SIMD)" cases).
  const innerKernels = async (channels: number) => {
    const x = seeded([2, 9, 9, channels], 1);
    const filter = seeded([3, 3, channels, 1], 2);
    const loss = (a: tf.Tensor, w: tf.Tensor) =>
      tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, "same"));
    const kernels = await kernelsRun(() => tf.grads(loss)([x, filter]));
    tf.dispose([x, filter]);
    return kernels;
  };
  it("run with no tfjs ops inside when the channels are a multiple of 4", async () => {
    const kernels = await innerKernels(8);
    expect(kernels).toContain("DepthwiseConv2dNativeBackpropFilter");
    expect(kernels).toContain("DepthwiseConv2dNativeBackpropInput");
    for (const inner of ["AvgPool", "Slice", "Reverse", "PadV2"]) expect(kernels).not.toContain(inner);
  });
  it("fall back to the tfjs-op kernels otherwise", async () => {
    const kernels = await innerKernels(6);
    expect(kernels).toContain("AvgPool");
    expect(kernels).toContain("Reverse");
  });
});

describe("tfjs-layers Conv2D without bias as tf.conv2d (conv_layer.ts)", () => {
  afterAll(() => installPlainConv2d());

  function net(): tf.LayersModel {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [9, 9, 3], filters: 8, kernelSize: 3, strides: 2, useBias: false }));
    model.add(tf.layers.conv2d({ filters: 6, kernelSize: 1, padding: "same", useBias: false }));
    model.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }));
    model.add(tf.layers.flatten());
    model.setWeights(model.weights.map((w, i) => seeded(w.shape as number[], 20 + i)));
    return model;
  }

  it("gives tfjs-layers' outputs and gradients, and no input gradient for the first convolution", async () => {
    const model = net();
    const images = seeded([2, 9, 9, 3], 5);
    const run = async (plain: boolean) => {
      if (plain) installPlainConv2d();
      else restoreLayersConv2d();
      const loss = () => tf.sum(tf.square(model.apply(images, { training: true }) as tf.Tensor)) as tf.Scalar;
      const output = valuesOf(model.predict(images) as tf.Tensor);
      const { value, grads } = tf.variableGrads(loss);
      const gradients = model.trainableWeights.map((w) => valuesOf(grads[(w.read() as tf.Variable).name]));
      tf.dispose([value, ...Object.values(grads)]);
      const kernels = await kernelsRun(() => tf.variableGrads(loss).grads);
      return { output, gradients, kernels };
    };
    const theirs = await run(false);
    const ours = await run(true);
    expectClose(ours.output, theirs.output, "output");
    ours.gradients.forEach((g, i) => expectClose(g, theirs.gradients[i], model.trainableWeights[i].name));
    // tfjs-layers' fused conv2d computes dx for all three; only two are needed.
    expect(theirs.kernels.filter((k) => k === "Conv2DBackpropInput")).toHaveLength(3);
    expect(ours.kernels.filter((k) => k === "Conv2DBackpropInput")).toHaveLength(2);
    tf.dispose(images);
    model.dispose();
  });
});

/**
 * Measured: most tensors within 5e-5 of their norm; the worst, squeeze-excite reduce kernels and biases
 * (a sum over 4 images of products that largely cancel), 2e-4. tfjs-backend-cpu's own kernels with and
 * without effnet's replacements differ by the same 2e-4 (64 px, 2 images): float32 rounding through 80
 * layers, not a different derivative; every replacement alone is held to 1e-4 in its own test.
 */
const WHOLE_MODEL_TOLERANCE = 5e-4;

describe("EfficientNet-B0 at 48 px, batch 4: every effnet replacement on wasm against tfjs's own on cpu", () => {
  // 48 px and 4 images keep ≥ 16 values per channel in every batch norm (the last stages are 2×2): at 32 px and
  // 2 images the last ones normalise 2 values per channel, and rounding alone moves the loss in the second digit.
  it("gives tfjs's gradients for every trainable weight, each tensor within 5e-4 of its norm", async () => {
    const model = buildModel({ resolution: 48, classes: 5, seed: 7 });
    const images = seeded([4, 48, 48, 3], 11).mul(127).add(127);
    const labels = tf.oneHot(tf.tensor1d([1, 3, 0, 4], "int32"), 5);
    const dropouts = model.layers.filter((l) => "draws" in l) as unknown as { draws: number }[];
    expect(dropouts.length).toBeGreaterThan(0);
    const gradients = () => {
      for (const d of dropouts) d.draws = 0; // the same drop-connect masks in both runs
      const { value, grads } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }) as tf.Tensor),
      );
      const result = model.trainableWeights.map((w) => valuesOf(grads[(w.read() as tf.Variable).name]));
      tf.dispose([value, ...Object.values(grads)]);
      return result;
    };
    const ours = gradients();
    await useBackend("cpu");
    restoreOriginalKernels("cpu");
    restoreOriginalGradients();
    for (const row of TRAINING_REPLACEMENTS) row.restore();
    try {
      const theirs = gradients();
      expect(ours).toHaveLength(model.trainableWeights.length);
      const scaleOf = (g: Values) => g.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const largest = Math.max(...theirs.map(scaleOf));
      ours.forEach((g, i) => {
        const name = model.trainableWeights[i].name;
        // A batch norm's offset followed (through a 1×1 convolution) by another batch norm has an
        // analytically zero gradient: both sides are rounding noise, ~1e-8 of the largest gradient.
        if (scaleOf(theirs[i]) < 1e-6 * largest) expect(scaleOf(g), name).toBeLessThan(1e-6 * largest);
        else expectNormClose(g, theirs[i], name, WHOLE_MODEL_TOLERANCE);
      });
    } finally {
      await useBackend("wasm");
      registerTrainingKernels("wasm");
      tf.dispose([images, labels]);
      model.dispose();
    }
  }, 120_000);
});
