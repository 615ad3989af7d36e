import { readdirSync, readFileSync } from "node:fs";
import { compile, type Compilation } from "../../src/compile.ts";
import { audit, type AuditDocument, type AuditOptions } from "../../src/report/audit.ts";

/** Compiles a spec file (or text) the way the CLI does. */
export function compilePath(
  path: string,
  text = readFileSync(path, "utf8"),
  options: Parameters<typeof compile>[1] = {},
): Compilation {
  return compile({ path, text }, options);
}

export function auditPath(path: string, options: AuditOptions = {}): AuditDocument {
  return audit(compilePath(path), options);
}

export const SHIPPED_SPECS = readdirSync("specs")
  .filter((f) => f.endsWith(".effnet"))
  .sort()
  .map((f) => `specs/${f}`);
export const GOLDEN_SPEC = "test/report/golden/tiny.effnet";
