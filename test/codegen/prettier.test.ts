import { readFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "prettier";
import { describe, expect, it } from "vitest";
import { emitDeclarations, emitModule } from "../../src/codegen/emit.ts";
import { moduleInfo, shippedSpecs } from "../../src/codegen/generate.ts";
import { compile } from "../../src/compile.ts";
import { PRETTIER_OPTIONS, ROOT } from "./shipped.ts";

/**
 * The emitter writes its modules already formatted (src/codegen/layout.ts), so
 * `effnet compile` needs no formatter: prettier, with the project's own configuration,
 * must leave every emitted file unchanged, in both dialects and the `.d.ts`.
 */
describe("emitted modules are already prettier-formatted", () => {
  it.each(shippedSpecs(ROOT))("%s: every variant, ts, js and .d.ts", async (spec) => {
    const compilation = compile({ path: spec, text: readFileSync(join(ROOT, spec), "utf8") });
    expect(compilation.ok).toBe(true);
    const command = ["npx", "effnet", "compile", spec];
    for (const { ir, cost, ...compiled } of compilation.variants) {
      const info = moduleInfo({ ir, cost, ...compiled }, "../../" + spec, command);
      const files = {
        ts: emitModule(ir, cost, info, "ts"),
        js: emitModule(ir, cost, info, "js"),
        "d.ts": emitDeclarations(ir, cost, info),
      };
      for (const [kind, text] of Object.entries(files))
        expect(await format(text, PRETTIER_OPTIONS), `${compiled.variant.name}.${kind}`).toBe(text);
    }
  });
});
