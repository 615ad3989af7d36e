import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The folders of src/ in pipeline order, as the README's layout table declares them (the
 * table is the one place the order is written): no file may import from a folder that
 * comes after its own, so nothing points back up the pipeline and runtime/ knows no
 * compiler code.
 */
const ROOT = resolve(new URL("../", import.meta.url).pathname);
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const ORDER = [...readme.slice(readme.indexOf("| Folder | Phase |")).matchAll(/^\| `src\/([\w.-]+)` \|/gm)].map((m) =>
  m[1].replace(/\.ts$/, ""),
);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith(".ts") ? [path] : [];
  });
}

/** The unit of layering: a folder of src/, or a file directly in it (compile.ts, index.ts). */
const unitOf = (path: string) => relative(join(ROOT, "src"), path).split("/")[0].replace(/\.ts$/, "");

// `import … from "…"`, `export … from "…"`, `import "…"` and `import("…")`, relative ones.
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"|\bimport\s*\(?\s*"(\.{1,2}\/[^"]+)"/g;

describe("layering", () => {
  const files = sourceFiles(join(ROOT, "src"));

  it("the README's table names every folder of src/ once", () => {
    expect(new Set(ORDER).size).toBe(ORDER.length);
    expect([...new Set(files.map(unitOf))].sort()).toEqual([...ORDER].sort());
  });

  it("no file imports from a folder later in the pipeline", () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
        const to = unitOf(resolve(dirname(file), m[1] ?? m[2]));
        if (ORDER.indexOf(to) > ORDER.indexOf(from))
          upward.push(`${relative(ROOT, file)} imports ${m[1] ?? m[2]} (${from} → ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
