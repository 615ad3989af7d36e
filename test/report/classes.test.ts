import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { CUSTOM_LAYERS } from "../../src/vocabulary/custom-layers.ts";
import { auditVariant } from "../../src/report/audit.ts";
import { shippedVariants } from "../codegen/shipped.ts";

/**
 * The summary's class names (KERAS_CLASS in src/ir/ir.ts) against the reference: the class
 * tfjs's Keras-compatible layers report for the built model of each shipped network's first
 * variant (getClassName(), the name Keras's model.summary() prints), layer by layer.
 */
/** effnet's registered layers that stand in for a Keras class tfjs lacks (src/vocabulary/custom-layers.ts). */
const STAND_INS: Record<string, string> = Object.fromEntries(
  Object.entries(CUSTOM_LAYERS).map(([name, c]) => [name, c.kerasClass]),
);

const firstOfEach = shippedVariants().filter((s, i, all) => all.findIndex((t) => t.network === s.network) === i);

describe("Keras class names in the layer summary", () => {
  it.each(firstOfEach.map((s) => [s.modulePath, s] as const))(
    "%s: each layer's class is tfjs's",
    async (_, shipped) => {
      await tf.setBackend("cpu");
      const { buildModel } = await shipped.load();
      const model = buildModel({ resolution: 32 });
      try {
        const reference = new Map(model.layers.map((l) => [l.name, STAND_INS[l.getClassName()] ?? l.getClassName()]));
        const ours = new Map(auditVariant(shipped.compiled).layers.map((l) => [l.name, l.className]));
        expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(reference));
      } finally {
        model.dispose();
      }
    },
  );
});
