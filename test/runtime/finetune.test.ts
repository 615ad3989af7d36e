import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { compile } from "../../src/compile.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { shapesDataset } from "../../src/runtime/data.ts";
import { fineTune, transferBackbone } from "../../src/runtime/finetune.ts";
import { importVariantModule } from "../../src/codegen/import-module.ts";
import { predictProbabilities } from "../../src/runtime/evaluate.ts";
import { trainModel } from "../../src/runtime/train.ts";
import { seedWeights, SMALL_NET_SPEC } from "../helpers/small-net.ts";

/**
 * Transfer learning as the paper's Table 5 sets it up, on what can be had without a
 * download: pre-train on one task (triangles against crosses), then learn another
 * (circles against squares) from few images and steps, starting from the pre-trained
 * features with a new classifier (frozen for the first epoch), against the same network
 * trained from scratch on the same images for the same number of steps. Initial weights
 * are seeded (seedWeights), so the comparison is of the runs, not of two random draws.
 */
describe("fine-tuning", () => {
  it("a pre-trained backbone is clearly ahead of training from scratch on a new task", async () => {
    await selectBackend("wasm");
    const compiled = compile({ path: "small.effnet", text: SMALL_NET_SPEC }).variants[0];
    const { buildModel } = await importVariantModule(compiled, "small.effnet");
    const resolution = 32;

    const pretrained = buildModel({ classes: 2 });
    seedWeights(pretrained, 1);
    const taskA = shapesDataset({ count: 320, resolution, shapes: ["triangle", "cross"], seed: 21 });
    await trainModel(pretrained, taskA, { epochs: 5, batchSize: 32, learningRate: 3e-3 });

    const taskB = { shapes: ["circle", "square"], resolution };
    const few = shapesDataset({ ...taskB, count: 32, seed: 22 });
    const held = shapesDataset({ ...taskB, count: 100, seed: 23 });
    const accuracy = (model: ReturnType<typeof buildModel>) =>
      predictProbabilities(model, held).filter((p, i) => p.indexOf(Math.max(...p)) === held.labels[i]).length /
      held.count;
    const options = { epochs: 4, batchSize: 16, learningRate: 1e-3, seed: 5 };

    // The same initial weights for both: the backbone's are then replaced by the pre-trained ones.
    const tuned = buildModel({ classes: 2 });
    seedWeights(tuned, 2);
    expect(transferBackbone(pretrained, tuned, "pre-trained").layers).toBeGreaterThan(10);
    const tunedRun = await fineTune(tuned, few, { ...options, freezeEpochs: 1, headLearningRate: 1e-2 });
    const scratch = buildModel({ classes: 2 });
    seedWeights(scratch, 2);
    const scratchRun = await trainModel(scratch, few, options);
    const [tunedAccuracy, scratchAccuracy] = [accuracy(tuned), accuracy(scratch)];
    console.info(
      `fine-tuning: ${tunedRun.history.length} steps on ${few.count} images; held-out accuracy fine-tuned ${(100 * tunedAccuracy).toFixed(0)}%, from scratch ${(100 * scratchAccuracy).toFixed(0)}% (${scratchRun.history.length} steps)`,
    );
    expect(tunedRun.history.length).toBe(scratchRun.history.length);
    expect(tunedAccuracy).toBeGreaterThanOrEqual(scratchAccuracy + 0.15);
    for (const m of [pretrained, tuned, scratch]) m.dispose();
  }, 120_000);

  it("effnet train --weights DIR --freeze features: a new classifier on the saved backbone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "effnet-finetune-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const spec = join(dir, "small.effnet");
    writeFileSync(spec, SMALL_NET_SPEC);
    const common = ["--variant", "base", "--synthetic", "--images", "32", "--batch-size", "16", "--backend", "wasm"];
    const pre = await runCli(
      "train",
      spec,
      ...common,
      "--shapes",
      "triangle,cross",
      "--epochs",
      "1",
      "--out",
      join(dir, "pre"),
    );
    expect(pre.code).toBe(0);
    const tuned = await runCli(
      "train",
      spec,
      ...common,
      "--shapes",
      "circle,square,cross",
      "--epochs",
      "2",
      "--weights",
      join(dir, "pre"),
      "--freeze",
      "features",
      "--out",
      join(dir, "tuned"),
    );
    expect(tuned.stderr).toMatch(
      /weights: \d+ layers from .*pre, a new 3-class classifier; features frozen for 1 epoch\(s\) at learning rate 0\.01/,
    );
    expect(tuned.stderr).toMatch(/epoch 2\/2/);
    expect(tuned.code).toBe(0);
    const wrong = await runCli(
      "train",
      "specs/mobilenetv2.effnet",
      ...common.map((a) => (a === "base" ? "V2" : a)),
      "--weights",
      join(dir, "pre"),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/the weights in .*pre are not this variant's: stem_conv has/);
    const usage = await runCli("train", spec, ...common, "--freeze", "features");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--freeze features needs --weights DIR/);
  }, 120_000);
});
