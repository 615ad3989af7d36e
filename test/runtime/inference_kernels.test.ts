/**
 * What effnet's runtime changes for inference on wasm: the WebAssembly SIMD sigmoid and swish
 * (src/runtime/kernels/activation_simd.ts, the loop in simd_loops.ts) against double
 * precision and against tfjs-backend-wasm's own Sigmoid; tfjs-layers' swish and
 * DepthwiseConv2D (conv_layer.ts) in inference and training against tfjs-layers' own; and an
 * exported EfficientNet-B0 under effnet's kernels against the same model under tfjs's own.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { importVariantModule } from "../../src/codegen/import-module.ts";
import { exportForInference, loadExported, modelArtifacts } from "../../src/runtime/export/inference.ts";
import { EFFNET_SWISH } from "../../src/runtime/kernels/activation_simd.ts";
import {
  originalKernel,
  registerTrainingKernels,
  restoreOriginalGradients,
  restoreOriginalKernels,
} from "../../src/runtime/kernels/index.ts";
import { restoreLayersSwish } from "../../src/runtime/kernels/swish.ts";
import { installFusedDepthwise, restoreLayersDepthwise } from "../../src/runtime/kernels/conv_layer.ts";
import { expectClose, seededValues } from "../helpers/numeric.ts";

/** The bound the loop's header documents: 3·2^−23 = 3.6e-7 relative, where the result is a normal float. */
const RELATIVE_BOUND = 3 * 2 ** -23;
const SMALLEST_NORMAL = 2 ** -126;

const sigmoid64 = (v: number) => 1 / (1 + Math.exp(-v));
const swish64 = (v: number) => v * sigmoid64(v);

/** Inputs over the whole range the loop computes ([−88, 87] and past it), dense near 0, plus seeded noise. */
function sweep(): Float32Array {
  const values: number[] = [];
  const steps = 1 << 20;
  for (let i = 0; i <= steps; i++) values.push(-100 + (200 * i) / steps);
  for (let i = 0; i <= steps; i++) values.push(-1 + (2 * i) / steps);
  for (const v of seededValues(1 << 16, 7)) values.push(v * 20);
  return Float32Array.from(values);
}

/**
 * The largest relative error of `actual` against `exact` where the exact value is a normal
 * float and x ≥ −88, and the largest absolute one elsewhere: below −88 the loop computes
 * numerator / (1 + e^88) (σ < 6.1e-39, swish < 5.4e-37 in magnitude, exact or not).
 */
function errors(input: Float32Array, actual: Float32Array, exact: (v: number) => number) {
  let relative = 0;
  let absoluteElsewhere = 0;
  for (let i = 0; i < input.length; i++) {
    const expected = exact(input[i]);
    const error = Math.abs(actual[i] - expected);
    if (Math.abs(expected) >= SMALLEST_NORMAL && input[i] >= -88)
      relative = Math.max(relative, error / Math.abs(expected));
    else absoluteElsewhere = Math.max(absoluteElsewhere, error);
  }
  return { relative, absoluteElsewhere };
}

const swishKernel = (x: tf.Tensor) => tf.engine().runKernel(EFFNET_SWISH, { x }) as tf.Tensor;

/** tfjs-backend-wasm's own Sigmoid, run directly. */
function tfjsSigmoid(x: tf.Tensor): Float32Array {
  const info = originalKernel(tf.Sigmoid, "wasm")!.kernelFunc({
    inputs: { x },
    backend: tf.backend(),
    attrs: {},
  }) as tf.TensorInfo;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

beforeAll(async () => {
  await tf.setBackend("wasm");
  await tf.ready();
  registerTrainingKernels("wasm");
});
afterAll(() => {
  restoreOriginalKernels("wasm");
  restoreOriginalGradients();
  restoreLayersSwish();
  restoreLayersDepthwise();
});

describe("SIMD sigmoid and swish on wasm", () => {
  const input = sweep();

  it("are within 3.6e-7 relative of double precision wherever the result is a normal float, and off by less than 5.4e-37 elsewhere", () => {
    const x = tf.tensor1d(input);
    const sigmoid = errors(input, tf.sigmoid(x).dataSync() as Float32Array, sigmoid64);
    const swish = errors(input, swishKernel(x).dataSync() as Float32Array, swish64);
    x.dispose();
    for (const [name, e] of Object.entries({ sigmoid, swish })) {
      expect(e.relative, `${name}: worst relative error`).toBeLessThanOrEqual(RELATIVE_BOUND);
      expect(e.absoluteElsewhere, `${name}: worst error elsewhere`).toBeLessThan(5.4e-37);
    }
  });

  it("equal tfjs's own Sigmoid to 1e-6 relative", () => {
    const x = tf.tensor1d(input);
    const actual = tf.sigmoid(x).dataSync() as Float32Array;
    const expected = tfjsSigmoid(x);
    x.dispose();
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      if (expected[i] >= SMALLEST_NORMAL) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / expected[i]);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it("compute the last count % 4 elements too, and keep NaN", () => {
    for (const count of [1, 2, 3, 5, 6, 7, 4 * 37 + 3]) {
      const values = seededValues(count, count).map((v) => v * 10);
      const x = tf.tensor(values, [1, count]);
      const sigmoid = tf.sigmoid(x).dataSync() as Float32Array;
      const swish = swishKernel(x).dataSync() as Float32Array;
      x.dispose();
      expect(errors(values, sigmoid, sigmoid64).relative, `σ of ${count}`).toBeLessThanOrEqual(RELATIVE_BOUND);
      expect(errors(values, swish, swish64).relative, `swish of ${count}`).toBeLessThanOrEqual(RELATIVE_BOUND);
    }
    const special = tf.tensor1d([NaN, Infinity, -Infinity, 0, 200, -200, 87, -88]);
    const [nan, infinity, minusInfinity, zero, large] = tf.sigmoid(special).dataSync();
    expect([Number.isNaN(nan), infinity, zero, large]).toEqual([true, 1, 0.5, 1]);
    expect(minusInfinity).toBeLessThan(SMALLEST_NORMAL);
    expect(Number.isNaN(swishKernel(special).dataSync()[0])).toBe(true);
    special.dispose();
  });
});

describe("tfjs-layers' swish with effnet's kernels", () => {
  const layer = () => tf.layers.activation({ activation: "swish" });
  const x = () =>
    tf.tensor(
      seededValues(2 * 9 * 9 * 12, 3).map((v) => v * 6),
      [2, 9, 9, 12],
    );

  it("runs as the one-pass kernel in inference, equal to x·σ(x) and to tfjs's own to 1e-6", async () => {
    const input = x();
    const profile = await tf.profile(() => layer().apply(input) as tf.Tensor);
    expect(profile.kernels.map((k) => k.name)).toEqual([EFFNET_SWISH]);
    const actual = (layer().apply(input) as tf.Tensor).dataSync() as Float32Array;
    const values = input.dataSync() as Float32Array;
    expect(errors(values, actual, swish64).relative).toBeLessThanOrEqual(RELATIVE_BOUND);
    // tfjs's own: its Sigmoid kernel, times x in float32
    const sigmoid = tfjsSigmoid(input);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const expected = Math.fround(sigmoid[i] * values[i]);
      if (expected !== 0) worst = Math.max(worst, Math.abs(actual[i] - expected) / Math.abs(expected));
    }
    expect(worst, "against tfjs's Sigmoid and multiply").toBeLessThanOrEqual(1e-6);
    input.dispose();
  });

  it("keeps its gradient where one is recorded: d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))", () => {
    const input = x();
    const values = input.dataSync() as Float32Array;
    const dx = tf.grad((t: tf.Tensor) => tf.sum(layer().apply(t) as tf.Tensor))(input);
    const expected = Float32Array.from(values, (v) => sigmoid64(v) * (1 + v * (1 - sigmoid64(v))));
    expectClose(
      { shape: dx.shape, values: dx.dataSync() as Float32Array },
      { shape: dx.shape, values: expected },
      "dx",
    );
    tf.dispose([input, dx]);
  });
});

describe("tfjs-layers' DepthwiseConv2D with a bias in effnet's runtime", () => {
  const cases = [
    { kernelSize: 3, strides: 1, padding: "same", activation: "swish", depthMultiplier: 1 },
    { kernelSize: 5, strides: 2, padding: "same", activation: "relu6", depthMultiplier: 1 },
    { kernelSize: 3, strides: 2, padding: "valid", activation: "linear", depthMultiplier: 2 },
  ] as const;
  for (const c of cases)
    it(`${c.kernelSize}×${c.kernelSize} stride ${c.strides} ${c.padding} ${c.activation} ×${c.depthMultiplier}: one fused kernel in inference, tfjs-layers' values to 1e-4`, async () => {
      const layer = tf.layers.depthwiseConv2d({ ...c, useBias: true, biasInitializer: "randomNormal" });
      const input = tf.tensor(seededValues(2 * 15 * 15 * 8, 11), [2, 15, 15, 8]);
      const run = () => {
        const y = layer.apply(input) as tf.Tensor;
        const values = { shape: y.shape, values: y.dataSync() as Float32Array };
        y.dispose();
        return values;
      };
      installFusedDepthwise();
      const profile = await tf.profile(() => layer.apply(input) as tf.Tensor);
      const kernels = profile.kernels.map((k) => k.name);
      expect(kernels).toContain("FusedDepthwiseConv2D");
      expect(kernels).not.toContain("Add");
      const fused = run();
      restoreLayersDepthwise();
      expectClose(fused, run(), "output");
      installFusedDepthwise();
      // where a gradient is recorded, tfjs-layers' own ops (and their gradients) run
      const recorded = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(input));
      expect(recorded.kernels.map((k) => k.name)).not.toContain("FusedDepthwiseConv2D");
      input.dispose();
    });
});

describe("an exported EfficientNet-B0 under effnet's kernels", () => {
  it("runs the one-pass swish and the fused depthwise convolutions, and gives tfjs's kernels' outputs to 1e-4", async () => {
    const path = "specs/efficientnet.effnet";
    const compilation = compile({ path, text: readFileSync(path, "utf8") }, { variants: ["B0"] });
    expect(compilation.ok).toBe(true);
    const module = await importVariantModule(compilation.variants[0], path);
    const model = module.buildModel({ resolution: 64, seed: 2 });
    const exported = await loadExported(await exportForInference(await modelArtifacts(model), { samples: 1 }));
    const images = tf.randomUniform([2, 64, 64, 3], 0, 255, "float32", 5);
    const run = () => {
      const y = exported.predict(images) as tf.Tensor;
      const values = { shape: y.shape, values: y.dataSync() as Float32Array };
      y.dispose();
      return values;
    };
    const withOurs = run();
    const kernels = new Set((await tf.profile(() => exported.predict(images) as tf.Tensor)).kernels.map((k) => k.name));
    for (const used of [EFFNET_SWISH, "FusedDepthwiseConv2D"]) expect(kernels).toContain(used);
    restoreOriginalKernels("wasm");
    restoreLayersSwish();
    restoreLayersDepthwise();
    const withTfjs = run();
    registerTrainingKernels("wasm");
    expectClose(withOurs, withTfjs, "probabilities");
    tf.dispose([images]);
    model.dispose();
    exported.dispose();
  });
});
