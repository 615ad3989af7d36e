import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";
import { DIAGNOSTICS } from "../src/diagnostics/codes.ts";
import { renderDiagnostics } from "../src/diagnostics/render.ts";

/**
 * Golden diagnostics: each test/errors/<CODE>-<what>.effnet is compiled through the whole
 * pipeline and its rendered diagnostics are compared with <CODE>-<what>.expected.
 * UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing.
 */
const dir = "test/errors";
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".effnet"))
  .sort();
const update = process.env.UPDATE_GOLDEN === "1";

function render(name: string): { text: string; codes: string[] } {
  const path = join(dir, name);
  const file = { path, text: readFileSync(path, "utf8") };
  const compilation = compile(file);
  return {
    text: renderDiagnostics(compilation.diagnostics, file) + "\n",
    codes: compilation.diagnostics.map((d) => d.code),
  };
}

describe("diagnostics (golden)", () => {
  it.each(cases)("%s", (name) => {
    const { text, codes } = render(name);
    const expectedPath = join(dir, name.replace(/\.effnet$/, ".expected"));
    if (update || !existsSync(expectedPath)) writeFileSync(expectedPath, text);
    expect(text).toBe(readFileSync(expectedPath, "utf8"));
    // The case is named after the code it demonstrates.
    expect(codes).toContain(name.split("-")[0]);
  });

  it("has a failing example for every diagnostic code a spec can cause", () => {
    const covered = new Set(cases.map((c) => c.split("-")[0]));
    // EFF0xxx are command-line failures (unreadable file, unknown --variant, unwritable output): test/cli.test.ts;
    // EFF5xxx are weights files' (`effnet weights`, test/cli-weights.test.ts) and model directories'
    // (test/cli-model-dir.test.ts), EFF6xxx images' (test/runtime/images.test.ts), each with its failing file there.
    const codes = Object.keys(DIAGNOSTICS).filter((c) => !/^EFF[056]/.test(c));
    expect(codes.filter((c) => !covered.has(c))).toEqual([]);
  });

  it("renders no stack traces and points every error at file:line:col", () => {
    for (const name of cases) {
      const { text } = render(name);
      expect(text).not.toMatch(/\n\s+at /);
      for (const header of text.matchAll(/^(error|warning)\[EFF\d{4}\]/gm)) expect(header).toBeTruthy();
      expect(text).toMatch(new RegExp(`--> ${dir}/${name.replace(/[.]/g, "\\.")}:\\d+:\\d+`));
    }
  });
});
