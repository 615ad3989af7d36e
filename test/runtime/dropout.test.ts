import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { scaleDropConnect, seededDropoutLayers } from "../../src/runtime/dropout.ts";
import { buildModel as buildB0 } from "../../generated/efficientnet/b0.ts";

/**
 * `train --drop-connect R` (src/runtime/dropout.ts): the generated module keeps the spec's
 * rates, drop_connect_rate · b / blocks (Keras EfficientNet()); scaling them by
 * R / drop_connect_rate gives the rates of the network built with R, and leaves the
 * classifier's dropout (`--dropout`, a buildModel option) alone.
 */
beforeAll(() => void tf.enableProdMode());

describe("scaleDropConnect", () => {
  it("scales every per-example drop rate and no other", () => {
    const model = buildB0({ classes: 3, resolution: 32, seed: 1, dropout: 0.3 });
    try {
      const before = seededDropoutLayers(model).map((l) => ({ name: l.name, rate: l.rate }));
      // B0: 16 blocks, 9 of them residual (the ones with drop connect), and the classifier's dropout.
      expect(before).toHaveLength(10);
      expect(before.at(-1)).toEqual({ name: "top_dropout", rate: 0.3 });
      // Keras: block b (0-based, of 16) drops 0.2 · b / 16; block2b is b = 2.
      expect(before.find((l) => l.name === "block2b_drop")?.rate).toBeCloseTo((0.2 * 2) / 16, 12);
      expect(scaleDropConnect(model, 0.5)).toBe(9);
      const after = seededDropoutLayers(model).map((l) => l.rate);
      before.slice(0, -1).forEach((l, i) => expect(after[i]).toBeCloseTo(l.rate * 0.5, 12));
      expect(after.at(-1)).toBe(0.3);
    } finally {
      model.dispose();
    }
  });
});
