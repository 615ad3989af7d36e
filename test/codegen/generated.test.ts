import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { generateModules, shippedSpecs } from "../../src/codegen/generate.ts";
import { ROOT, shippedVariants } from "./shipped.ts";

/**
 * generated/ is checked in; this fails when it no longer matches what the shipped specs
 * compile to, so CI (npm test) catches a spec, IR or emitter change without a regeneration.
 */
const REGENERATE = `npx effnet compile ${shippedSpecs(ROOT).join(" ")}`;

describe("generated/ is up to date", () => {
  it.each(shippedSpecs(ROOT))("%s: every module matches byte for byte", async (spec) => {
    const compilation = compile({ path: spec, text: readFileSync(join(ROOT, spec), "utf8") });
    expect(compilation.ok).toBe(true);
    const modules = generateModules(compilation);
    expect(modules.length).toBe(compilation.variants.length);
    const stale: string[] = [];
    for (const m of modules) {
      const onDisk = existsSync(join(ROOT, m.path)) ? readFileSync(join(ROOT, m.path), "utf8") : undefined;
      if (onDisk !== m.content) stale.push(`${m.path} is ${onDisk === undefined ? "missing" : "stale"}`);
    }
    expect(stale, `${stale.join("; ")}. Regenerate with \`${REGENERATE}\` and review the diff.`).toEqual([]);
  });

  it("holds no module that no shipped variant produces", () => {
    // Every network folder under generated/ (reports/ belongs to `effnet report`).
    const folders = readdirSync(join(ROOT, "generated"), { withFileTypes: true }).filter(
      (d) => d.isDirectory() && d.name !== "reports",
    );
    const onDisk = folders.flatMap((d) =>
      readdirSync(join(ROOT, "generated", d.name)).map((f) => `generated/${d.name}/${f}`),
    );
    const expected = new Set(shippedVariants().map((v) => v.modulePath));
    const orphans = onDisk.filter((path) => !expected.has(path));
    expect(
      orphans,
      `no shipped spec produces ${orphans.join(", ")}: delete them, or regenerate with \`${REGENERATE}\``,
    ).toEqual([]);
  });

  it("generation is deterministic: twice gives the same bytes, TypeScript and JavaScript", async () => {
    const spec = shippedSpecs(ROOT)[0];
    const text = readFileSync(join(ROOT, spec), "utf8");
    for (const emit of ["ts", "js"] as const) {
      const first = generateModules(compile({ path: spec, text }), { emit });
      const second = generateModules(compile({ path: spec, text }), { emit });
      expect(second.map((m) => m.content)).toEqual(first.map((m) => m.content));
    }
    const first = generateModules(compile({ path: spec, text }));
    for (const m of first) expect(m.content).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });
});
