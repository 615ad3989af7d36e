import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.ts";
import { batchTensors, encodePng, shapesDataset } from "../../src/runtime/data.ts";
import { loadModel, saveModel } from "../../src/runtime/io.ts";
import { predictProbabilities, probabilitiesOf } from "../../src/runtime/evaluate.ts";
import { recomputeBatchNormStatistics, trainModel } from "../../src/runtime/train.ts";
import { buildModel as buildB0 } from "../../generated/efficientnet/b0.ts";
import { buildModel as buildV2 } from "../../generated/mobilenetv2/v2.ts";
import { runCli as run } from "../helpers/cli.ts";

/**
 * Training on the wasm backend (with the project's gradient kernels, registered by
 * selectBackend), saving and loading without tfjs-node, and the train/predict commands
 * end to end on the shipped shapes data set.
 */

const work = mkdtempSync(join(tmpdir(), "effnet-train-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  tf.enableProdMode();
  expect((await selectBackend("wasm")).name).toBe("wasm");
});

describe("training EfficientNet-B0 (generated) on wasm", () => {
  // B0 at 32×32 with 3 classes: the full depth and width, a small input, so steps are fast.
  const data = shapesDataset({ count: 16, resolution: 32, seed: 11 });
  let model: tf.LayersModel;
  afterAll(() => model?.dispose());

  it("lowers the loss in a few steps", async () => {
    model = buildB0({ classes: 3, resolution: 32 });
    // One batch of the whole set each step: the loss is measured on the same images each time.
    const { history } = await trainModel(model, data, {
      epochs: 6,
      batchSize: 16,
      learningRate: 1e-3,
      preciseBatchNormImages: 0,
    });
    expect(history).toHaveLength(6);
    expect(history.every((p) => Number.isFinite(p.loss))).toBe(true);
    expect(history.at(-1)!.loss).toBeLessThan(history[0].loss);
    expect(history.at(-1)!.imagesPerSecond).toBeGreaterThan(0);
  });

  it("saves model.json + weights.bin, and the loaded model predicts identically", async () => {
    const dir = join(work, "b0");
    await saveModel(model, dir, {
      network: "EfficientNet",
      variant: "B0",
      resolution: 32,
      classNames: data.classNames,
    });
    expect(existsSync(join(dir, "model.json")) && existsSync(join(dir, "weights.bin"))).toBe(true);
    const { model: loaded, info } = await loadModel(dir);
    expect(info).toEqual({
      network: "EfficientNet",
      variant: "B0",
      resolution: 32,
      classNames: ["circle", "square", "triangle"],
    });
    expect(loaded.countParams()).toBe(model.countParams());
    expect(predictProbabilities(loaded, data)).toEqual(predictProbabilities(model, data));
    loaded.dispose();
  });
});

describe("precise batch norm", () => {
  it("makes inference-mode outputs equal training-mode ones on the data it measured", async () => {
    // MobileNetV2 with dropout 0 has no random layer: training and inference mode differ only in batch norm.
    const model = buildV2({ classes: 3, resolution: 32, dropout: 0 });
    const data = shapesDataset({ count: 8, resolution: 32, seed: 4 });
    const { xs, ys } = batchTensors(data, [0, 1, 2, 3, 4, 5, 6, 7]);
    const gap = () =>
      tf.tidy(
        () =>
          tf
            .max(
              tf.abs(
                tf.sub(
                  probabilitiesOf(model, model.predict(xs) as tf.Tensor2D),
                  probabilitiesOf(model, model.apply(xs, { training: true }) as tf.Tensor2D),
                ),
              ),
            )
            .dataSync()[0],
      );
    // Fresh moving statistics (mean 0, variance 1) are nothing like the activations'.
    expect(gap()).toBeGreaterThan(0.01);
    recomputeBatchNormStatistics(model, data, [0, 1, 2, 3, 4, 5, 6, 7], 8);
    // Not exactly 0: training mode normalises with effnet's fused kernel (x·γ/σ + β − μ·γ/σ) and
    // inference with tfjs's batchNorm, and torchvision's epsilon 1e-5 (MobileNetV2's convention)
    // lets their float32 rounding grow over 52 layers (measured 1.8e-3 in probability).
    expect(gap()).toBeLessThan(5e-3);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe("effnet train / predict", () => {
  const out = join(work, "v2-shapes");

  it("train --synthetic runs end to end and saves a model", async () => {
    const result = await run(
      "train",
      "specs/mobilenetv2.effnet",
      "--variant",
      "V2",
      "--synthetic",
      "--images",
      "24",
      "--resolution",
      "32",
      "--epochs",
      "2",
      "--batch-size",
      "8",
      "--backend",
      "wasm",
      "--out",
      out,
    );
    expect(result.stderr).toContain("backend: wasm");
    expect(result.code, result.stderr).toBe(0);
    // Plain progress lines (not a terminal): one per step here (3 steps per epoch), epoch by epoch, with elapsed time and ETA.
    expect(result.stderr).toMatch(
      /^epoch 2\/2 {2}step 3\/3 {2}loss \d+\.\d{4} {2}accuracy \d\.\d{3} {2}\d+\.\d images\/s {2}\d+:\d\d elapsed, ETA 0:00$/m,
    );
    // Each epoch ends with its summary line.
    expect(result.stderr).toMatch(
      /^epoch 1\/2 {2}loss \d+\.\d{4} {2}accuracy \d\.\d{3} {2}lr 0\.001 {2}\d+:\d\d elapsed, ETA \d+:\d\d$/m,
    );
    expect(result.stdout).toMatch(/trained 6 steps/);
    for (const file of ["model.json", "weights.bin", "history.json", "training.json", "optimizer.bin"])
      expect(existsSync(join(out, file)), file).toBe(true);
  });

  it("--validation holds out images and reports val_loss and val_accuracy per epoch, in the progress and in history.json", async () => {
    const dir = join(work, "b0-validation");
    const args = (extra: string[]) => [
      "train",
      "specs/efficientnet.effnet",
      "--variant",
      "B0",
      "--synthetic",
      "--images",
      "30",
      "--resolution",
      "32",
      "--batch-size",
      "8",
      "--backend",
      "wasm",
      // Not the reference's rates: a resumed run must keep them (checkpoint settings).
      "--dropout",
      "0.1",
      "--drop-connect",
      "0.1",
      ...extra,
    ];
    const result = await run(...args(["--epochs", "2", "--validation", "0.2", "--out", dir]));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("24 for training, 6 held out");
    expect(result.stderr).toContain("dropout 0.1, drop connect 0.1");
    expect(result.stderr).toMatch(
      /^epoch 2\/2 {2}loss \S+ {2}accuracy \S+ {2}val_loss \d+\.\d{4} {2}val_accuracy \d\.\d{3} /m,
    );
    const history = JSON.parse(readFileSync(join(dir, "history.json"), "utf8")) as {
      epochs: {
        epoch: number;
        loss: number;
        validationLoss: number;
        validationAccuracy: number;
        elapsedSeconds: number;
      }[];
    };
    expect(history.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(history.epochs.every((e) => Number.isFinite(e.validationLoss) && e.validationAccuracy >= 0)).toBe(true);

    // One epoch, then --resume for the second: the same run as two epochs at once, bit for bit.
    const split = join(work, "b0-resumed");
    const first = await run(...args(["--epochs", "1", "--validation", "0.2", "--out", split]));
    expect(first.code, first.stderr).toBe(0);
    const resumeArgs = ["specs/efficientnet.effnet", "--variant", "B0", "--backend", "wasm", "--epochs", "2"];
    const resumed = await run("train", ...resumeArgs, "--resume", split);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("resuming after epoch 1 (3 steps)");
    expect(resumed.stderr).toContain("dropout 0.1, drop connect 0.1");
    const resumedHistory = JSON.parse(readFileSync(join(split, "history.json"), "utf8")) as typeof history;
    expect(resumedHistory.epochs.map(({ elapsedSeconds, ...e }) => e)).toEqual(
      history.epochs.map(({ elapsedSeconds, ...e }) => e),
    );
    // Compared as digests: a deep equality of two 16 MB buffers exhausts the test's heap.
    const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(digest(join(split, "weights.bin"))).toBe(digest(join(dir, "weights.bin")));

    const conflicting = await run("train", ...resumeArgs, "--resume", split, "--lr", "0.1");
    expect(conflicting.code).toBe(2);
    expect(conflicting.stderr).toContain("leave out --lr");

    const evaluation = await run("eval", dir, "--synthetic", "9", "--json", "--backend", "wasm");
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const doc = JSON.parse(evaluation.stdout) as {
      images: number;
      accuracy: number;
      perClass: { class: string; images: number }[];
      confusion: number[][];
    };
    expect(doc.images).toBe(9);
    expect(doc.perClass.map((c) => [c.class, c.images])).toEqual([
      ["circle", 3],
      ["square", 3],
      ["triangle", 3],
    ]);
    expect(doc.confusion.flat().reduce((a, b) => a + b, 0)).toBe(9);
    expect(doc.accuracy).toBe(doc.confusion.reduce((n, row, i) => n + row[i], 0) / 9);
    const text = await run("eval", dir, "--synthetic", "9", "--backend", "wasm");
    expect(text.stdout).toMatch(/^accuracy \d+\.\d% on 9 images, loss \d+\.\d{4}\n/);
    expect(text.stdout).toContain("confusion matrix (rows: true class, columns: predicted)");
  });

  it("predict reads the saved model: freshly drawn shapes, and PNG files", async () => {
    const synthetic = await run("predict", out, "--synthetic", "4", "--json", "--backend", "wasm");
    expect(synthetic.code, synthetic.stderr).toBe(0);
    const doc = JSON.parse(synthetic.stdout) as {
      results: { top: { class: string; probability: number }[]; truth: string }[];
      accuracy: number;
    };
    expect(doc.results).toHaveLength(4);
    for (const r of doc.results) expect(r.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 4);

    const png = join(work, "circle.png");
    writeFileSync(png, encodePng(shapesDataset({ count: 1, resolution: 48, seed: 99 }), 0));
    const files = await run("predict", out, png, "--top", "2", "--backend", "wasm");
    expect(files.code, files.stderr).toBe(0);
    expect(files.stdout).toMatch(/circle\.png {2}\w+ \d+\.\d%, \w+ \d+\.\d%\n$/);
  });

  it("user errors are one clean line and exit 1, never a stack trace", async () => {
    const noModel = await run("predict", join(work, "missing"), "--synthetic", "2", "--backend", "wasm");
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(
      /^effnet predict: .*missing holds no saved model: cannot read model\.json \(no such file or directory\)/,
    );
    const noData = await run(
      "train",
      "specs/mobilenetv2.effnet",
      "--variant",
      "V2",
      "--data",
      join(work, "no-data"),
      "--resolution",
      "32",
      "--backend",
      "wasm",
    );
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/effnet train: cannot read data directory .*no-data: no such file or directory\n$/);
    for (const r of [noModel, noData]) expect(r.stderr).not.toMatch(/\n\s+at /);
    const noEvalData = await run("eval", out, "--backend", "wasm");
    expect(noEvalData.code).toBe(2);
    expect(noEvalData.stderr).toContain("give either --data DIR or --synthetic N");
    const badSchedule = await run(
      "train",
      "specs/mobilenetv2.effnet",
      "--variant",
      "V2",
      "--synthetic",
      "--lr-schedule",
      "linear",
    );
    expect(badSchedule.code).toBe(2);
    expect(badSchedule.stderr).toContain(
      "unknown learning-rate schedule `linear`; one of constant, exponential:RATE/EPOCHS, cosine",
    );
    const usage = await run("train", "specs/mobilenetv2.effnet", "--variant", "V2");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("give either --data DIR or --synthetic");
  });
});
