import * as tf from "@tensorflow/tfjs";
import { outputsLogits, probabilitiesOf } from "../../src/runtime/evaluate.ts";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { elements, type NetworkIR } from "../../src/ir/ir.ts";
import { shippedVariants } from "./shipped.ts";

/**
 * The oracle of docs/design.md ("the compiler's count against countParams() of the built tfjs
 * model"): every checked-in module, built with tfjs, must be the network the audit
 * describes — the same total, and layer by layer the same output shape and parameters.
 */

/** Above this many MACs a forward pass at full resolution costs seconds on a CI core; those run at FORWARD_TEST_RESOLUTION. */
const FULL_RESOLUTION_FORWARD_MAX_MACS = 2.5e9;
const FORWARD_TEST_RESOLUTION = 64;
/**
 * Variants larger than this are not built here: RegNetY-32GF's 145M and -128GF's 645M
 * parameters take gigabytes and minutes to initialise. Their counts are checked against
 * torchvision's models (test/reference/zoo.test.ts), their modules' text by the staleness
 * and prettier tests, and every layer kind and block they use is built here in a smaller
 * variant of the same spec. The largest built is EfficientNetV2-L (118.5M).
 */
const BUILD_TEST_MAX_PARAMS = 120e6;

/** tfjs's per-layer view, to set beside the IR's. */
function tfjsLayers(
  model: tf.LayersModel,
): Map<string, { outputShape: (number | null)[]; params: number; weights: string[] }> {
  return new Map(
    model.layers.map((layer) => [
      layer.name,
      {
        outputShape: layer.outputShape as (number | null)[],
        params: layer.countParams(),
        weights: layer.weights.map(
          (w) => `${w.originalName} ${JSON.stringify(w.shape)} ${w.trainable ? "trainable" : "frozen"}`,
        ),
      },
    ]),
  );
}

function irLayers(ir: NetworkIR): Map<string, { outputShape: (number | null)[]; params: number; weights: string[] }> {
  return new Map(
    ir.layers.map((layer) => [
      layer.name,
      {
        outputShape: [null, ...layer.outputShape],
        params: layer.weights.reduce((n, w) => n + elements(w.shape), 0),
        weights: layer.weights.map(
          (w) => `${layer.name}/${w.name} ${JSON.stringify(w.shape)} ${w.trainable ? "trainable" : "frozen"}`,
        ),
      },
    ]),
  );
}

beforeAll(async () => {
  await tf.setBackend("wasm");
  tf.enableProdMode();
});

describe.each(
  shippedVariants()
    .filter((v) => v.compiled.cost.params.total <= BUILD_TEST_MAX_PARAMS)
    .map((v) => [`${v.compiled.ir.network} ${v.compiled.variant.name}`, v] as const),
)("%s", (_, shipped) => {
  const { ir, cost } = shipped.compiled;

  it("builds to the audit's network: countParams, then layer by layer shape and weights", async () => {
    const { buildModel, metadata } = await shipped.load();
    expect(metadata.params).toEqual(cost.params);
    expect(metadata.macs).toBe(cost.macs);
    const model = buildModel();
    try {
      expect(model.countParams()).toBe(cost.params.total);
      const trainable = model.trainableWeights.reduce((n, w) => n + elements(w.shape as number[]), 0);
      expect(trainable).toBe(cost.params.trainable);
      // Same layers (tfjs orders a functional model's layers by depth, the IR by
      // construction, so compare by name), each with the same shape and weights.
      expect(Object.fromEntries(tfjsLayers(model))).toEqual(Object.fromEntries(irLayers(ir)));
      expect(model.outputs[0].shape).toEqual([null, ir.classes]);
    } finally {
      model.dispose();
    }
  });

  it("predicts [1, classes] probabilities (softmax, or of its logits) that sum to 1", async () => {
    const { buildModel, metadata } = await shipped.load();
    const resolution = cost.macs <= FULL_RESOLUTION_FORWARD_MAX_MACS ? metadata.resolution : FORWARD_TEST_RESOLUTION;
    const model = buildModel({ resolution });
    try {
      expect(outputsLogits(model)).toBe(metadata.convention.output === "logits");
      const probabilities = tf.tidy(() =>
        probabilitiesOf(model, model.predict(tf.randomUniform([1, resolution, resolution, 3], 0, 255)) as tf.Tensor2D),
      );
      expect(probabilities.shape).toEqual([1, ir.classes]);
      const values = Array.from(await probabilities.data());
      probabilities.dispose();
      expect(values.every((p) => p >= 0 && p <= 1)).toBe(true);
      // float32 softmax over 1000 classes: the sum is 1 to about 1e-5.
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    } finally {
      model.dispose();
    }
  });
});
