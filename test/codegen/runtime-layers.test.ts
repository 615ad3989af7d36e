import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * Custom layers exist twice: in every generated module that uses one (src/codegen/emit.ts,
 * HELPERS), so the module depends on tfjs alone, and in src/runtime/layers.ts, which
 * registers them for loading saved models. The TypeScript module must hold the runtime's
 * class text exactly, so the two cannot drift apart.
 */
describe("custom layers in generated modules", () => {
  const runtime = readFileSync("src/runtime/layers.ts", "utf8");
  const regions = [...runtime.matchAll(/\/\/ effnet:emit begin (\w+)\n([\s\S]*?)\/\/ effnet:emit end/g)];

  it("finds the runtime's emitted regions", () => expect(regions.map((r) => r[1])).toContain("EffnetNormalization"));

  it.each(regions.map((r) => [r[1], r[2]] as const))(
    "%s: the Keras-convention B0 module holds it verbatim",
    (_, text) => {
      const module = readFileSync("generated/efficientnet/b0.ts", "utf8");
      expect(module).toContain(text);
    },
  );
});
