import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { caseText, FAILURES, runCase, seedSpecs, type CaseResult } from "../fuzz/harness.ts";

/**
 * A seeded sample of fuzz/harness.ts's cases (issue 15): mutated shipped specs,
 * grammar-built specs and random text, each through every phase, every report format,
 * codegen and the printer's round trip. None may crash, be accepted degenerate, leak the
 * hostile path out of a comment, break the JSON schema, or change meaning when printed.
 * Time is not asserted here (benchmarks measure time; `npm run fuzz` reports slow cases).
 */
const CASES = 600;
const SEED = 20261201;

describe("fuzzing (seeded sample)", () => {
  it(`${CASES} cases: no crash, degenerate network, unescaped output, invalid JSON or round-trip change`, () => {
    const seeds = seedSpecs();
    const failures: (CaseResult & { index: number })[] = [];
    let compiled = 0;
    for (let index = 0; index < CASES; index++) {
      const result = runCase(caseText(SEED, index, seeds), undefined, Infinity);
      if (result.outcome === "ok") compiled++;
      if (FAILURES.includes(result.outcome)) failures.push({ ...result, index });
    }
    expect(failures.map((f) => `case ${f.index}: ${f.outcome}: ${f.detail}`)).toEqual([]);
    // The sample must reach the back end, not only the parser's error paths.
    expect(compiled).toBeGreaterThan(CASES / 50);
  });
});

/**
 * What the 1,000,000-case run found, minimised by the harness (each file's first line says
 * the seed, the case and the failure it was): each now runs clean. Time is not asserted.
 */
const REGRESSIONS = new URL("./fuzz-regressions/", import.meta.url);
describe("fuzz regressions", () => {
  it.each(readdirSync(REGRESSIONS).filter((f) => f.endsWith(".effnet")))("%s", (file) => {
    const result = runCase(readFileSync(new URL(file, REGRESSIONS), "utf8"), undefined, Infinity);
    expect(FAILURES.includes(result.outcome) ? `${result.outcome}: ${result.detail}` : "clean").toBe("clean");
  });
});
