import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { modelInput, seededRandom, shapesDataset } from "../../src/runtime/data.ts";
import { foldForInference, samePadding, type LayerJson } from "../../src/runtime/export/fold.ts";
import { exportForInference, loadExported, modelArtifacts } from "../../src/runtime/export/inference.ts";
import { encodeWeights, float16Bits } from "../../src/runtime/export/quantize.ts";
import { importVariantModule } from "../../src/codegen/import-module.ts";
import { useBackend } from "../helpers/numeric.ts";
import { seedInferenceWeights } from "../helpers/seeded-weights.ts";

/**
 * Issue 14: the inference export computes the saved model's function. Each shipped spec's
 * layer kinds are built at 64 px with batch-norm statistics measured on images (so that
 * folding has real means and variances to fold) and perturbed γ and β, exported, and the
 * exported model's logits compared with the original's on images the export never saw, on
 * wasm and cpu: max |Δlogit| ≤ 1e-4 · max |logit|. The logits are computed here from each
 * model's last features and its classifier's weights, not by the export's own measure.
 */
const RESOLUTION = 64;
/** ResNets at 32 px (a 1×1 last feature map): the cpu backend runs ResNeXt's 32 groups one by one. */
const CASES: readonly { spec: string; variant: string; kinds: string; resolution?: number }[] = [
  { spec: "efficientnet", variant: "B0", kinds: "MBConv with SE, Keras padding and stored normalization, softmax" },
  { spec: "efficientnetv2", variant: "S", kinds: "FusedMBConv and MBConv with SE" },
  { spec: "mobilenetv2", variant: "V2", kinds: "MBConv1 (depthwise separable) and MBConv6, relu6" },
  { spec: "mnasnet", variant: "M1", kinds: "MBConv3/6 with 5×5 kernels, relu" },
  { spec: "mobilenetv3", variant: "Large", kinds: "hard swish, hard-sigmoid SE, a two-layer classifier head" },
  { spec: "resnet", variant: "R18", kinds: "BasicBlock, max pooling, projection shortcuts", resolution: 32 },
  { spec: "resnext50", variant: "X50", kinds: "Bottleneck with grouped convolutions", resolution: 32 },
];

async function preparedModel(spec: string, variant: string, resolution: number): Promise<tf.LayersModel> {
  const path = `specs/${spec}.effnet`;
  const compilation = compile({ path, text: readFileSync(path, "utf8") }, { variants: [variant] });
  expect(compilation.ok, `${path} compiles`).toBe(true);
  const module = await importVariantModule(compilation.variants[0], path);
  const model = module.buildModel({ resolution });
  seedInferenceWeights(model, 3);
  return model;
}

/** The classifier's logits: the last layer's input features times its kernel plus bias, whatever its activation. */
function logits(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const last = model.layers[model.layers.length - 1];
  expect(last.getClassName()).toBe("Dense");
  const features = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
  const [kernel, bias] = last.getWeights();
  return tf.tidy(() =>
    tf.add(tf.matMul(features.predict(x) as tf.Tensor2D, kernel as tf.Tensor2D), bias).dataSync(),
  ) as Float32Array;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  return worst / scale;
}

const classesOf = (topology: object) =>
  new Set((topology as { config: { layers: LayerJson[] } }).config.layers.map((l) => l.class_name));

describe("inference export: folded ≡ unfolded", () => {
  for (const c of CASES)
    it(`${c.spec} ${c.variant} (${c.kinds}) on wasm and cpu`, async () => {
      await useBackend("wasm");
      const resolution = c.resolution ?? RESOLUTION;
      const model = await preparedModel(c.spec, c.variant, resolution);
      const artifacts = await modelArtifacts(model);
      model.dispose();
      const result = await exportForInference(artifacts, { samples: 1 });
      expect(result.unfoldedBatchNorms).toEqual([]);
      expect(result.counts.batchNorms).toBeGreaterThan(10);
      const classes = classesOf(result.modelJson.modelTopology as object);
      for (const gone of [
        "BatchNormalization",
        "Dropout",
        "EffnetNormalization",
        "Rescaling",
        "GlobalAveragePooling2D",
      ])
        expect(classes.has(gone), `${gone} left in the export`).toBe(false);

      // The export's own measure, then an independent one on other images.
      expect(result.folding.relativeLogitError).toBeLessThanOrEqual(1e-4);
      const images = shapesDataset({ count: 1, resolution, seed: 99 });
      for (const backend of ["wasm", "cpu"] as const) {
        await useBackend(backend);
        const original = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
        const exported = await loadExported(result);
        const x = modelInput(images.images, [1, resolution, resolution, 3]);
        const expected = logits(original, x);
        // Alive: logits that vary across classes, so that agreeing to 1e-4 says something.
        expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(1e-2);
        expect(relativeError(logits(exported, x), expected), `${backend}`).toBeLessThanOrEqual(1e-4);
        tf.dispose(x);
        original.dispose();
        exported.dispose();
      }
    });
});

describe("folding rules", () => {
  /** A conv → BN → relu, whose output also feeds a second branch, and a conv whose output is used twice. */
  async function branchy(): Promise<tf.io.ModelArtifacts> {
    await useBackend("cpu");
    const input = tf.input({ shape: [9, 9, 2], name: "input" });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, useBias: false, name: "conv" }).apply(input);
    const bn = tf.layers.batchNormalization({ name: "bn" }).apply(conv) as tf.SymbolicTensor;
    const relu = tf.layers.activation({ activation: "relu", name: "relu" }).apply(bn) as tf.SymbolicTensor;
    // `shared`'s output feeds its batch norm and an add: folding would change the add's input.
    const shared = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: "shared" }).apply(relu) as tf.SymbolicTensor;
    const bn2 = tf.layers.batchNormalization({ name: "bn2" }).apply(shared) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: "add" }).apply([bn2, shared]) as tf.SymbolicTensor;
    const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", depthMultiplier: 2, name: "dw" }).apply(sum);
    const bn3 = tf.layers.batchNormalization({ name: "bn3", epsilon: 0.01 }).apply(dw) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: bn3 });
    const random = seededRandom(1);
    for (const l of model.layers)
      l.setWeights(
        l.weights.map((w) =>
          tf.tensor(
            Float32Array.from({ length: (w.shape as number[]).reduce((a, b) => a * b, 1) }, () =>
              w.originalName.includes("variance") ? 0.5 + random() : random() - 0.5,
            ),
            w.shape as number[],
          ),
        ),
      );
    return modelArtifacts(model);
  }

  it("folds a batch norm only into a layer whose output is its alone; depth multipliers fold per output channel", async () => {
    const artifacts = await branchy();
    const decoded = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    const weights = artifacts.weightSpecs!.map((s) => ({
      name: s.name,
      shape: s.shape,
      values: decoded[s.name].dataSync() as Float32Array,
    }));
    const folded = foldForInference(artifacts.modelTopology as object, weights);
    expect(folded.unfoldedBatchNorms).toEqual(["bn2"]);
    expect(folded.counts).toMatchObject({ batchNorms: 2, activations: 1 });
    const conv = folded.topology.config.layers.find((l) => l.name === "conv")!;
    expect(conv.config).toMatchObject({ use_bias: true, activation: "relu" });
    const original = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const encoded = encodeWeights(folded.weights, "float32");
    const exported = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: folded.topology,
        weightSpecs: encoded.specs,
        weightData: encoded.data.buffer as ArrayBuffer,
      }),
    );
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 9 * 9 * 2 }, (_, i) => Math.sin(i)),
      [2, 9, 9, 2],
    );
    const expected = (original.predict(x) as tf.Tensor).dataSync() as Float32Array;
    expect(relativeError((exported.predict(x) as tf.Tensor).dataSync() as Float32Array, expected)).toBeLessThan(1e-5);
  });

  it("TensorFlow's same padding is Keras's correct_pad before a strided valid window", () => {
    // Keras imagenet_utils.correct_pad: (k//2 − 1, k//2) for even sizes, (k//2, k//2) for odd ones, stride 2.
    for (const n of [7, 8, 111, 112])
      for (const k of [3, 5]) expect(samePadding(n, k, 2)).toEqual(n % 2 ? [k >> 1, k >> 1] : [(k >> 1) - 1, k >> 1]);
    expect(samePadding(56, 3, 1)).toEqual([1, 1]);
  });
});

describe("weight storage", () => {
  it("float16 bits are numpy's astype(float16): nearest, ties to even, subnormals, overflow to ∞", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next power: rounds up to ∞
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // a tie between 0 and the smallest subnormal: to even
      [1 + 2 ** -11, 0x3c00], // a tie: to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [0.1, 0x2e66],
      [Infinity, 0x7c00],
    ];
    for (const [value, bits] of cases) expect(float16Bits(value), `${value}`).toBe(bits);
    expect(float16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it("tfjs's loader reads back what was stored: float16 to half precision, uint8 to half a step, 0 exactly", () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3 - 0.5);
    values[10] = 0;
    const weights = [{ name: "w", shape: [1000], values }];
    for (const type of ["float16", "uint8"] as const) {
      const { specs, data } = encodeWeights(weights, type);
      expect(data.byteLength).toBe(type === "float16" ? 2000 : 1000);
      const back = tf.io.decodeWeights(data.buffer as ArrayBuffer, specs).w.dataSync() as Float32Array;
      const q = specs[0].quantization!;
      const step = type === "uint8" ? q.scale! : 0;
      for (let i = 0; i < values.length; i++) {
        const bound = type === "float16" ? Math.abs(values[i]) * 2 ** -11 : step / 2 + 1e-6;
        expect(Math.abs(back[i] - values[i]), `${type} #${i}`).toBeLessThanOrEqual(bound);
      }
      expect(back[10]).toBe(0);
    }
  });
});
