import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.ts";
import { shapesDataset, splitDataset } from "../../src/runtime/data.ts";
import { scaleDropConnect, trainModel, zeroClassifier } from "../../src/runtime/train.ts";
import { buildModel as buildB0 } from "../../generated/efficientnet/b0.ts";

/**
 * The README's training demo, shortened: the same B0 at 48 px, images, split, seed and
 * flags (`--resolution 48 --images 4500 --validation 0.2 --epochs 2 --batch-size 32
 * --lr 0.006 --warmup 0.3 --dropout 0 --drop-connect 0 --zero-head`) for the first
 * DEMO_STEPS of its 226 steps (the same warm-up over the first 34), then the held-out
 * 900 images in inference mode after precise batch norm, as the demo measures them
 * after every epoch. Everything is seeded, so on wasm
 * the run is the same every time; the threshold leaves room for another machine's float
 * rounding, and chance is 1/3. Measured: 79.9% held out, epoch loss 0.845 (ln 3 = 1.099
 * at the zero head's start). 100 steps at 48 px take about 30 s on an idle core (estimated); the
 * timeout leaves room for a machine shared with other work (220 s measured at load 10–13).
 */
const DEMO_STEPS = 100;
const SHARED_MACHINE_TIMEOUT_MS = 600_000;

beforeAll(async () => {
  tf.enableProdMode();
  await selectBackend("wasm");
});

describe("the training demo, shortened", () => {
  it(
    "reaches a held-out accuracy well above chance",
    async () => {
      const seed = 1;
      const all = shapesDataset({ count: 4500, resolution: 48, seed });
      const { train, validation } = splitDataset(all, 0.2, seed);
      const model = buildB0({ classes: 3, resolution: 48, seed, dropout: 0 });
      expect(zeroClassifier(model)).toBe(true);
      expect(scaleDropConnect(model, 0)).toBe(9);
      try {
        const { epochs, history } = await trainModel(model, train, {
          epochs: 2,
          batchSize: 32,
          optimizer: "adam",
          learningRate: 0.006,
          warmupEpochs: 0.3,
          seed,
          validation,
          maxSteps: DEMO_STEPS,
        });
        expect(history).toHaveLength(DEMO_STEPS);
        const last = epochs.at(-1)!;
        expect(last.validationAccuracy).toBeGreaterThan(0.6);
        expect(history.at(-1)!.epochLoss).toBeLessThan(0.9 * Math.log(3));
      } finally {
        model.dispose();
      }
    },
    SHARED_MACHINE_TIMEOUT_MS,
  );
});
