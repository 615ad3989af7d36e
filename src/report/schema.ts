import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { AuditDocument } from "./audit.ts";

/**
 * The JSON documents effnet writes, each with its JSON Schema (draft 2020-12) in schema/,
 * where users and other tools find it; every field is described there with its unit. Every
 * document is validated against its schema before it is printed or written, so a field added
 * to the code but not to the schema (or a NaN, a negative count, a missing field) is an
 * internal error, never a silently malformed file. Adding a document is one entry here.
 */
export const SCHEMAS = {
  /** `effnet audit --json`, `effnet report --format json` (src/report/audit.ts). */
  audit: new URL("../../schema/audit.schema.json", import.meta.url),
  /** `effnet search --json` (src/cli/commands/search.ts). */
  search: new URL("../../schema/search.schema.json", import.meta.url),
} as const;

export type SchemaName = keyof typeof SCHEMAS;

export const AUDIT_SCHEMA_PATH = SCHEMAS.audit;

// strict: unknown keywords and ambiguous types in the schema itself are errors too.
const AJV_OPTIONS = { strict: true, allErrors: true, allowUnionTypes: true } as const;

const require = createRequire(import.meta.url);
const compiled = new Map<SchemaName, ValidateFunction>();

const schemaText = (name: SchemaName) => readFileSync(SCHEMAS[name], "utf8");

export function schemaOf(name: SchemaName): Record<string, unknown> {
  return JSON.parse(schemaText(name)) as Record<string, unknown>;
}

export const auditSchema = () => schemaOf("audit");

/**
 * The file name of the validator compiled ahead of time for this exact schema text, which
 * `npm run build` (scripts/build.js) writes beside the bundle: compiling the schema costs
 * more than the rest of `effnet audit --json`. Named by a hash of the schema, so a schema
 * edited after the build is never checked by a stale validator (it is compiled instead).
 * The hash is two 32-bit FNV-1a lanes (64 bits): loading node:crypto for it would cost
 * more than it saves, and it guards against a stale build, not against an adversary.
 */
function precompiledName(name: SchemaName, text: string): string {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    low = Math.imul(low ^ c, 0x01000193) >>> 0;
    high = Math.imul(high ^ c ^ (low >>> 24), 0x01000193) >>> 0;
  }
  return `${name}-schema-${high.toString(16).padStart(8, "0")}${low.toString(16).padStart(8, "0")}.cjs`;
}

/** Every schema's validator as standalone code (Ajv's standaloneCode), and the name it goes by beside this module. */
export function standaloneValidators(): { fileName: string; code: string }[] {
  const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const standaloneCode = (require("ajv/dist/standalone/index.js") as typeof import("ajv/dist/standalone/index.js"))
    .default;
  return (Object.keys(SCHEMAS) as SchemaName[]).map((name) => {
    const text = schemaText(name);
    const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true } });
    return { fileName: precompiledName(name, text), code: standaloneCode(ajv, ajv.compile(JSON.parse(text))) };
  });
}

function validator(name: SchemaName): ValidateFunction {
  const known = compiled.get(name);
  if (known) return known;
  const text = schemaText(name);
  const precompiled = new URL(precompiledName(name, text), import.meta.url);
  let validate: ValidateFunction;
  if (existsSync(precompiled)) validate = require(fileURLToPath(precompiled)) as ValidateFunction;
  else {
    const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
    validate = new Ajv2020(AJV_OPTIONS).compile(JSON.parse(text));
  }
  compiled.set(name, validate);
  return validate;
}

/** The schema's complaints about a value, one line each; empty when it is valid. */
export function schemaErrors(name: SchemaName, value: unknown): string[] {
  const validate = validator(name);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) =>
      `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""}`,
  );
}

/** Throws (an internal error: the program built a document its own schema refuses) unless `value` is valid. */
export function assertValid(name: SchemaName, value: unknown): void {
  const errors = schemaErrors(name, value);
  if (errors.length)
    throw new Error(
      `the ${name} document does not match schema/${name}.schema.json:\n  ${errors.slice(0, 10).join("\n  ")}${errors.length > 10 ? `\n  … and ${errors.length - 10} more` : ""}`,
    );
}

export const auditSchemaErrors = (value: unknown) => schemaErrors("audit", value);

export function assertValidAudit(value: unknown): asserts value is AuditDocument {
  assertValid("audit", value);
}
