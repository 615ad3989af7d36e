import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { classActivationMaps } from "../../src/runtime/cam.ts";
import { CHANNELS, shapesDataset } from "../../src/runtime/data.ts";
import { saveModel } from "../../src/runtime/io.ts";
import { importVariantModule } from "../../src/codegen/import-module.ts";
import { predictProbabilities } from "../../src/runtime/evaluate.ts";
import { trainModel } from "../../src/runtime/train.ts";
import { runCli } from "../helpers/cli.ts";
import { seedWeights, SMALL_NET_SPEC } from "../helpers/small-net.ts";

/**
 * Class activation maps (Zhou et al. 2016; the paper's Figure 7) on a small network
 * trained on the shapes data set: a map is right when its peak lies on the drawn shape,
 * a measurable property. The shapes' pixels are the bright ones (every channel of the
 * foreground ≥ 0.55 − noise, of the background ≤ 0.45 + noise: src/runtime/data.ts), so
 * the mask comes from the image itself.
 */
const dir = mkdtempSync(join(tmpdir(), "effnet-cam-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("class activation maps", () => {
  it("peak on the drawn shape for most held-out images of a model trained on shapes", async () => {
    await selectBackend("wasm");
    const compiled = compile({ path: "small.effnet", text: SMALL_NET_SPEC }).variants[0];
    const model = (await importVariantModule(compiled, "small.effnet")).buildModel();
    seedWeights(model, 3);
    const train = shapesDataset({ count: 480, resolution: 32, seed: 11 });
    await trainModel(model, train, { epochs: 6, batchSize: 32, learningRate: 3e-3, preciseBatchNormImages: 256 });
    const held = shapesDataset({ count: 60, resolution: 32, seed: 99 });
    const n = 32 * 32 * CHANNELS;
    const images = Array.from({ length: held.count }, (_, i) => held.images.subarray(i * n, (i + 1) * n));
    const accuracy =
      predictProbabilities(model, held).filter((p, i) => p.indexOf(Math.max(...p)) === held.labels[i]).length /
      held.count;
    const maps = classActivationMaps(model, images, 32);
    const onShape = maps.filter((m, i) => {
      const peak = m.upsampled.indexOf(Math.max(...m.upsampled));
      return [0, 1, 2].every((c) => images[i][peak * CHANNELS + c] >= 0.5);
    }).length;
    // How much of each image the shapes cover: the rate a map with a random peak would reach.
    const covered = images.reduce((s, img) => {
      let inside = 0;
      for (let p = 0; p < 32 * 32; p++) if ([0, 1, 2].every((c) => img[p * CHANNELS + c] >= 0.5)) inside++;
      return s + inside / (32 * 32);
    }, 0);
    console.info(
      `CAM: held-out accuracy ${(100 * accuracy).toFixed(0)}%, peak on the shape for ${onShape}/${held.count} (shapes cover ${((100 * covered) / held.count).toFixed(0)}% of the pixels)`,
    );
    expect(maps[0].height).toBe(8);
    expect(onShape / held.count).toBeGreaterThanOrEqual(0.75);
    await saveModel(model, join(dir, "model"), {
      network: "SmallNet",
      variant: "base",
      resolution: 32,
      classNames: train.classNames,
    });
    model.dispose();
  }, 120_000);

  it("effnet cam writes one overlay PNG per image and an HTML page", async () => {
    const out = join(dir, "cams");
    const result = await runCli("cam", join(dir, "model"), "--synthetic", "4", "--out", out, "--backend", "wasm");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files.filter((f) => f.endsWith(".png"))).toHaveLength(4);
    expect(readFileSync(join(out, "index.html"), "utf8")).toMatch(/<img src="001-shapes-1-circle\.png"/);
    const bad = await runCli("cam", join(dir, "model"), "--synthetic", "2", "--class", "7", "--out", join(dir, "no"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--class must be a class index from 0 to 2, not 7/);
    expect(existsSync(join(dir, "no"))).toBe(false);
  }, 60_000);
});
