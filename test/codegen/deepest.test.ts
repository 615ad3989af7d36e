import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { importVariantModule } from "../../src/codegen/import-module.ts";
import { compile } from "../../src/compile.ts";
import { SIZE_LIMITS } from "../../src/scaling/scale.ts";

/**
 * The deepest network effnet emits without `--allow-huge` must build and run in tfjs:
 * SIZE_LIMITS.tfjsLayers is set below the depth at which tfjs-layers' recursive graph walk
 * overflows Node's stack (src/scaling/scale.ts). The golden EFF3001 case with 350 blocks
 * instead of its 400 has 4,912 layers, 98 % of the limit.
 */
beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("a network just under the tfjs-layer limit", () => {
  it("builds with tfjs and predicts", async () => {
    const text = readFileSync("test/errors/EFF3001-too-deep-for-tfjs.effnet", "utf8").replace(
      "| 400    |",
      "| 350    |",
    );
    const compilation = compile({ path: "deep.effnet", text });
    expect(compilation.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const [variant] = compilation.variants;
    expect(variant.ir.layers.length).toBeGreaterThan(0.95 * SIZE_LIMITS.tfjsLayers);
    expect(variant.ir.layers.length).toBeLessThanOrEqual(SIZE_LIMITS.tfjsLayers);
    const module = await importVariantModule(variant, "deep.effnet");
    const model = module.buildModel({ resolution: 8 });
    expect(model.layers.length).toBe(variant.ir.layers.length);
    const y = tf.tidy(() => (model.predict(tf.ones([1, 8, 8, 3])) as tf.Tensor).sum().dataSync()[0]);
    expect(y).toBeCloseTo(1, 4); // softmax probabilities of one image
    model.dispose();
  }, 120_000);
});
