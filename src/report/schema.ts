import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { AuditDocument } from "./audit.ts";

/**
 * The audit document's JSON Schema (draft 2020-12) lives in schema/audit.schema.json,
 * where users and other tools find it; every field is described there with its unit.
 * Every document is validated against it before it is printed or written, so a field
 * added to audit.ts but not to the schema (or a NaN, a negative count, a missing field)
 * is an internal error, never a silently malformed file.
 */
export const AUDIT_SCHEMA_PATH = new URL("../../schema/audit.schema.json", import.meta.url);

// strict: unknown keywords and ambiguous types in the schema itself are errors too.
const AJV_OPTIONS = { strict: true, allErrors: true, allowUnionTypes: true } as const;

const require = createRequire(import.meta.url);
let compiled: ValidateFunction | undefined;

const schemaText = () => readFileSync(AUDIT_SCHEMA_PATH, "utf8");

export function auditSchema(): Record<string, unknown> {
  return JSON.parse(schemaText()) as Record<string, unknown>;
}

/**
 * The file name of the validator compiled ahead of time for this exact schema text, which
 * `npm run build` (scripts/build.js) writes beside the bundle: compiling the schema costs
 * more than the rest of `effnet audit --json`. Named by a hash of the schema, so a schema
 * edited after the build is never checked by a stale validator (it is compiled instead).
 * The hash is two 32-bit FNV-1a lanes (64 bits): loading node:crypto for it would cost
 * more than it saves, and it guards against a stale build, not against an adversary.
 */
function precompiledName(text: string): string {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    low = Math.imul(low ^ c, 0x01000193) >>> 0;
    high = Math.imul(high ^ c ^ (low >>> 24), 0x01000193) >>> 0;
  }
  return `audit-schema-${high.toString(16).padStart(8, "0")}${low.toString(16).padStart(8, "0")}.cjs`;
}

/** The schema's validator as standalone code (Ajv's standaloneCode), and the name it goes by beside this module. */
export function standaloneValidator(): { fileName: string; code: string } {
  const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const standaloneCode = (require("ajv/dist/standalone/index.js") as typeof import("ajv/dist/standalone/index.js"))
    .default;
  const text = schemaText();
  const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true } });
  return { fileName: precompiledName(text), code: standaloneCode(ajv, ajv.compile(JSON.parse(text))) };
}

function validator(): ValidateFunction {
  if (compiled) return compiled;
  const text = schemaText();
  const precompiled = new URL(precompiledName(text), import.meta.url);
  if (existsSync(precompiled)) compiled = require(fileURLToPath(precompiled)) as ValidateFunction;
  else {
    const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
    compiled = new Ajv2020(AJV_OPTIONS).compile(JSON.parse(text));
  }
  return compiled;
}

/** The schema's complaints about a value, one line each; empty when it is a valid audit document. */
export function auditSchemaErrors(value: unknown): string[] {
  const validate = validator();
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) =>
      `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""}`,
  );
}

/** Throws (an internal error: the program built a document its own schema refuses) unless `value` is valid. */
export function assertValidAudit(value: unknown): asserts value is AuditDocument {
  const errors = auditSchemaErrors(value);
  if (errors.length)
    throw new Error(
      `the audit document does not match schema/audit.schema.json:\n  ${errors.slice(0, 10).join("\n  ")}${errors.length > 10 ? `\n  … and ${errors.length - 10} more` : ""}`,
    );
}
