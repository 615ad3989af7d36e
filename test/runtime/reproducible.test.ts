import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.ts";
import { augmentImages, shapesDataset, splitDataset } from "../../src/runtime/data.ts";
import { probabilitiesOf } from "../../src/runtime/evaluate.ts";
import { logitsOf, trainModel } from "../../src/runtime/train.ts";
import { buildModel as buildV2 } from "../../generated/mobilenetv2/v2.ts";
import { buildModel as buildB0 } from "../../generated/efficientnet/b0.ts";

/**
 * Reproducible training (issue 7): the seed covers the initial weights, the dropout and
 * drop-connect masks, the shuffles, the augmentation and the synthetic data, so two runs
 * with the same seed on the same backend compute the same losses bit for bit.
 */

beforeAll(async () => {
  tf.enableProdMode();
  await selectBackend("wasm");
});

async function losses(seed: number, modelSeed = seed): Promise<number[]> {
  const data = shapesDataset({ count: 16, resolution: 32, seed });
  // B0 has drop connect in every repeated block and dropout before its classifier: both draw masks every step.
  const model = buildB0({ classes: 3, resolution: 32, seed: modelSeed });
  try {
    const { history } = await trainModel(model, data, {
      epochs: 2,
      batchSize: 8,
      seed,
      augment: true,
      optimizer: "rmsprop",
      learningRate: 0.01,
      schedule: "exponential:0.5/1",
      preciseBatchNormImages: 0,
    });
    return history.map((p) => p.loss);
  } finally {
    model.dispose();
  }
}

describe("same seed, same backend", () => {
  it("gives identical losses; another seed of the model alone changes them", async () => {
    const first = await losses(5);
    expect(first).toHaveLength(4);
    expect(await losses(5)).toEqual(first);
    expect(await losses(5, 6)).not.toEqual(first);
  });
});

describe("seeded dropout", () => {
  it("draws a new mask at every training call, the same sequence for the same seed, and none in inference", () => {
    const masks = (seed: number) => {
      const model = buildB0({ classes: 3, resolution: 32, seed });
      const layer = model.getLayer("top_dropout");
      const x = tf.ones([4, 1280]);
      const drawn = [0, 1, 2].map(() =>
        tf.tidy(() => Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync())),
      );
      const inference = tf.tidy(() => Array.from((layer.apply(x, { training: false }) as tf.Tensor).dataSync()));
      x.dispose();
      model.dispose();
      return { drawn, inference };
    };
    const a = masks(1);
    expect(a.drawn[0]).not.toEqual(a.drawn[1]);
    expect(a.drawn[1]).not.toEqual(a.drawn[2]);
    expect(masks(1).drawn).toEqual(a.drawn);
    expect(a.inference.every((v) => v === 1)).toBe(true);
    // Rate 0.2: kept values are scaled by 1/0.8, dropped ones are 0.
    expect(a.drawn[0].every((v) => v === 0 || Math.abs(v - 1.25) < 1e-6)).toBe(true);
  });

  it("saves as a plain tfjs Dropout, without its seed", () => {
    const model = buildB0({ classes: 3, resolution: 32, seed: 1 });
    const layers = (
      model.toJSON(null, false) as unknown as {
        config: { layers: { class_name: string; config: Record<string, unknown> }[] };
      }
    ).config.layers;
    const dropout = layers.find((l) => l.config.name === "top_dropout")!;
    expect(dropout.class_name).toBe("Dropout");
    expect(dropout.config).not.toHaveProperty("seed");
    model.dispose();
  });
});

describe("data for training", () => {
  it("splits each class by the seed, holding out the fraction asked", () => {
    const data = shapesDataset({ count: 30, resolution: 8, seed: 2 });
    const { train, validation } = splitDataset(data, 0.2, 9);
    expect([train.count, validation.count]).toEqual([24, 6]);
    expect(Array.from(validation.labels).sort()).toEqual([0, 0, 1, 1, 2, 2]);
    expect(splitDataset(data, 0.2, 9).validation.images).toEqual(validation.images);
    expect(splitDataset(data, 0.2, 10).validation.images).not.toEqual(validation.images);
  });

  it("augments deterministically, keeping pixel values in range", () => {
    const data = shapesDataset({ count: 4, resolution: 16, seed: 3 });
    const once = (seed: number) => {
      const values = data.images.slice();
      let s = seed;
      augmentImages(values, 4, 16, () => (s = (s * 16807) % 2147483647) / 2147483647);
      return values;
    };
    expect(once(7)).toEqual(once(7));
    expect(once(7)).not.toEqual(data.images);
    expect(once(7).every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

describe("the loss is computed from the classifier's logits", () => {
  it("whose softmax is the model's output, so saturated examples still have a gradient", () => {
    // Dropout 0: MobileNetV2 then draws nothing, and two training-mode passes see the same network.
    // Its torchvision convention ends in logits: probabilitiesOf is the softmax the loss applies.
    const model = buildV2({ classes: 3, resolution: 32, dropout: 0, seed: 2 });
    const logits = logitsOf(model)!;
    const xs = tf.randomUniform([4, 32, 32, 3], 0, 255, "float32", 1) as tf.Tensor4D;
    const gap = tf.tidy(
      () =>
        tf
          .max(
            tf.abs(
              tf.sub(
                tf.softmax(logits(xs)),
                probabilitiesOf(model, model.apply(xs, { training: true }) as tf.Tensor2D),
              ),
            ),
          )
          .dataSync()[0],
    );
    expect(gap).toBeLessThan(1e-6);
    xs.dispose();
    model.dispose();
  });
});
