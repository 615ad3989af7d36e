import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.ts";
import { importVariantModule } from "../../src/codegen/import-module.ts";
import { importWeights, seededPixels } from "../../src/weights/transfer.ts";
import {
  BATCH,
  CASES,
  caseWeights,
  compileCase,
  FIXTURE,
  INPUT_SEED,
  type EquivalenceCase,
} from "../../scripts/equivalence/cases.ts";
import type { ConventionName } from "../../src/vocabulary/conventions.ts";

/**
 * Same function, not only the same counts: torchvision's models (torch 1.13,
 * torchvision 0.14) on seeded weights and a seeded input gave the logits in the fixture
 * (scripts/equivalence/torchvision_logits.py); effnet's generated model, compiled under the
 * torchvision convention with the same weights imported, must give the same logits on
 * wasm and on cpu: max |Δ| ≤ 1e-4 × max |logit|. The weights are regenerated from the
 * seed here, and their hash must be the one the fixture was computed from. The Keras case
 * compares probabilities with torchvision's modules under Keras's conventions (TF `same`
 * padding, epsilon 1e-3, softmax; scripts/equivalence/torchvision_logits.py), and checks
 * that the torchvision convention does not pass it: the conventions change the function.
 */
interface Fixture {
  readonly batch: number;
  readonly inputSeed: number;
  readonly cases: Record<string, { resolution: number; seed: number; weightsSha256: string; logits: number[][] }>;
}
const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as Fixture;
const measured: string[] = [];

afterAll(() => console.info(`max |Δ| / max |logit|:\n${measured.join("\n")}`));

describe.each(CASES)("$name against torchvision", (c) => {
  const expected = fixture.cases[c.name];

  it("the fixture was computed from these seeds and these weights", () => {
    expect([fixture.batch, fixture.inputSeed, expected.resolution, expected.seed]).toEqual([
      BATCH,
      INPUT_SEED,
      c.resolution,
      c.seed,
    ]);
    expect(caseWeights(c).sha256).toBe(expected.weightsSha256);
  });

  it.each(["wasm", "cpu"] as const)(
    "gives torchvision's logits on %s",
    async (backend) => {
      await selectBackend(backend);
      const compiled = compileCase(c);
      const module = await importVariantModule(compiled, c.spec);
      const { bytes } = caseWeights(c);
      const { model, diagnostics } = importWeights({
        module,
        ir: compiled.ir,
        bytes,
        path: `${c.name}.safetensors`,
        reference: "torchvision",
        resolution: c.resolution,
      });
      expect(diagnostics).toEqual([]);
      try {
        // Pixels in [0, 255], the models' input (torchvision's transforms are in the model).
        const pixels = seededPixels(INPUT_SEED, BATCH, c.resolution);
        const logits = tf.tidy(() =>
          (model!.predict(tf.tensor4d(pixels, [BATCH, c.resolution, c.resolution, 3])) as tf.Tensor).arraySync(),
        ) as number[][];
        const scale = Math.max(...expected.logits.flat().map(Math.abs));
        const delta = Math.max(...logits.flat().map((v, i) => Math.abs(v - expected.logits.flat()[i])));
        measured.push(
          `  ${c.name} ${backend}: ${(delta / scale).toExponential(2)} (max |Δ| ${delta.toExponential(2)}, scale ${scale.toFixed(3)})`,
        );
        expect(logits.length).toBe(BATCH);
        expect(delta / scale).toBeLessThanOrEqual(1e-4);
      } finally {
        model!.dispose();
      }
    },
    120_000,
  );
});
