import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { irText, scaledText, specText } from "./forms.ts";

/**
 * Baselines of the intermediate forms of small dedicated specs (test/baselines/*.effnet):
 * NAME.spec.txt (the checked spec), NAME.scaled.txt (every variant's scaled stage table
 * with the rounding behind each number) and NAME.VARIANT.ir.txt (the layer IR). A change to
 * a phase shows here as a diff to review; `UPDATE_GOLDEN=1 npx vitest run test/baselines`
 * rewrites them, as for the error goldens.
 */
const DIR = new URL("./", import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === "1";

function expectBaseline(name: string, text: string): void {
  const url = new URL(name, DIR);
  if (UPDATE || !existsSync(url)) writeFileSync(url, text);
  expect(text).toBe(readFileSync(url, "utf8"));
}

describe.each(readdirSync(DIR).filter((f) => f.endsWith(".effnet")))("%s", (file) => {
  const stem = file.replace(/\.effnet$/, "");
  const source = { path: `test/baselines/${file}`, text: readFileSync(new URL(file, DIR), "utf8") };
  const compilation = compile(source);

  it("compiles without diagnostics", () => {
    expect(compilation.diagnostics.map((d) => `${d.code}: ${d.message}`)).toEqual([]);
  });
  it("checked spec", () => expectBaseline(`${stem}.spec.txt`, specText(compilation.spec!, source)));
  it("scaled stage tables", () =>
    expectBaseline(`${stem}.scaled.txt`, scaledText(compilation.variants.map((v) => v.scaled))));
  it("layer IR of each variant", () => {
    for (const v of compilation.variants) expectBaseline(`${stem}.${v.variant.name}.ir.txt`, irText(v.ir));
  });
});
