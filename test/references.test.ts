import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Every path into this repository that a comment, a doc or a message names exists, so no
 * reference goes stale when a file moves. A path is `src/…`, `test/…`, `specs/…` and the
 * other top-level folders, not preceded by another path segment: a file of another
 * repository is written with that repository's name in front (`tfjs-layers/src/layers/core.ts`).
 */
const ROOT = new URL("../", import.meta.url).pathname;
const FOLDERS = ["src", "test", "bench", "scripts", "docs", "grammar", "fuzz", "schema", "generated", "specs", "bin"];
const PATH = new RegExp(`(?<![\\w./-])((?:${FOLDERS.join("|")})/[\\w./-]*\\w)`, "g");
// Names that are made up on purpose: a usage example, a test's virtual spec, a hostile path.
const INVENTED = new Set(["specs/x.effnet", "specs/efficientnet-torchvision.effnet", "fuzz/x"]);

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) return [];
    if (statSync(join(ROOT, path)).isDirectory())
      return path === "generated" || path === "test/fixtures" ? [] : files(path);
    return /\.(ts|js|md|py|json)$/.test(name) ? [path] : [];
  });
}

// A golden case may be named by its stem (test/errors/EFF2001-no-network: the .effnet and its .expected).
const exists = (path: string) => existsSync(join(ROOT, path)) || existsSync(join(ROOT, `${path}.effnet`));

describe("references", () => {
  it("every repository path named in source, tests, docs and the README exists", () => {
    const missing: string[] = [];
    for (const file of [
      ...["src", "test", "bench", "scripts", "docs", "grammar", "fuzz", "schema"].flatMap(files),
      "README.md",
    ])
      for (const m of readFileSync(join(ROOT, file), "utf8").matchAll(PATH))
        if (!INVENTED.has(m[1]) && !exists(m[1].replace(/[.]$/, ""))) missing.push(`${file}: ${m[1]}`);
    expect([...new Set(missing)]).toEqual([]);
  });
});
