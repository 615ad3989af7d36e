import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
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

  const modules = readdirSync("generated", { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => readFileSync(join("generated", f), "utf8"));

  it.each(regions.map((r) => [r[1], r[2]] as const))(
    "%s: every shipped module that uses it holds it verbatim",
    (name, text) => {
      const users = modules.filter((m) => m.includes(`class ${name} `));
      for (const m of users) expect(m).toContain(text);
    },
  );
});

describe("src/codegen/custom-layer-sources.ts", () => {
  it("is generated from src/runtime/layers.ts (npm run generate)", async () => {
    const { customLayerSources, SOURCES_PATH } = await import("../../scripts/custom-layers.ts");
    expect(
      readFileSync(SOURCES_PATH, "utf8") === (await customLayerSources()),
      `${SOURCES_PATH} is stale: run npm run generate`,
    ).toBe(true);
  });
});
