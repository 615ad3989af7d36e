import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { reportFiles } from "../../src/report/outputs.ts";
import { auditPath } from "./helpers.ts";

/**
 * The checked-in reports in generated/reports/ are what `effnet report specs/*.effnet
 * --out-dir generated/reports` writes today: regenerated in memory and compared byte for
 * byte, like the generated models.
 */
const DIR = "generated/reports";
const REGENERATE = "npm run generate:reports   (effnet report specs/*.effnet --out-dir generated/reports)";
const specs = readdirSync("specs")
  .filter((f) => f.endsWith(".effnet"))
  .sort()
  .map((f) => `specs/${f}`);
const expected = specs.flatMap((spec) => reportFiles(auditPath(spec), DIR));

describe("generated/reports is fresh", () => {
  it.each(expected.map((f) => [f.path, f.content]))("%s", (path, content) => {
    const found = existsSync(path) ? readFileSync(path, "utf8") : undefined;
    expect(
      found === content,
      `${path} is ${found === undefined ? "missing" : "stale"}; regenerate with:\n  ${REGENERATE}`,
    ).toBe(true);
  });

  it("names no internal source path: users read these, not the compiler's folders", () => {
    for (const f of expected) expect(f.content, f.path).not.toMatch(/\bsrc\/[a-z]+\/[a-z-]+\.ts\b/);
  });

  it("holds no report of a spec that no longer exists", () => {
    const known = new Set(expected.map((f) => f.path.split("/").pop()));
    const extra = existsSync(DIR) ? readdirSync(DIR).filter((f) => !known.has(f)) : [];
    expect(extra, `remove them, or regenerate with:\n  ${REGENERATE}`).toEqual([]);
  });
});
