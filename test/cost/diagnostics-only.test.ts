/**
 * `effnet check` compiles with `diagnosticsOnly`: every variant's limits and budgets from the
 * closed-form totals (src/cost/totals.ts) instead of lowering and costing the layers. It must
 * report exactly what the full pipeline reports, on every spec the repository has: the
 * shipped ones, one failing spec per diagnostic code, the fuzzer's reproducers and the
 * baselines' small specs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { closedFormCovers } from "../../src/cost/totals.ts";
import { check } from "../../src/semantics/check.ts";
import { parse } from "../../src/syntax/parse.ts";

const FOLDERS = ["specs", "test/errors", "test/fuzz-regressions", "test/baselines"];
const specFiles = FOLDERS.flatMap((folder) =>
  readdirSync(folder)
    .filter((f) => f.endsWith(".effnet"))
    .map((f) => join(folder, f)),
);

describe("compile({ diagnosticsOnly }) reports what the full pipeline reports", () => {
  it.each(specFiles)("%s", (path) => {
    const file = { path, text: readFileSync(path, "utf8") };
    const full = compile(file);
    const fast = compile(file, { diagnosticsOnly: true });
    expect(fast.diagnostics).toEqual(full.diagnostics);
    expect(fast.ok).toBe(full.ok);
  });

  it("takes the closed-form path for the shipped EfficientNet spec (no layers built)", () => {
    const file = { path: "specs/efficientnet.effnet", text: readFileSync("specs/efficientnet.effnet", "utf8") };
    expect(closedFormCovers(check(parse(file).document).spec!)).toBe(true);
    expect(compile(file, { diagnosticsOnly: true }).variants).toEqual([]);
  });
});
