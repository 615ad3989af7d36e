import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { AuditDocument } from "./audit.ts";

/**
 * The audit document's JSON Schema (draft 2020-12) lives in schema/audit.schema.json,
 * where users and other tools find it; every field is described there with its unit.
 * Every document is validated against it before it is printed or written, so a field
 * added to audit.ts but not to the schema (or a NaN, a negative count, a missing field)
 * is an internal error, never a silently malformed file.
 */
export const AUDIT_SCHEMA_PATH = new URL("../../schema/audit.schema.json", import.meta.url);

let compiled: ValidateFunction | undefined;

export function auditSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(AUDIT_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
}

function validator(): ValidateFunction {
  // strict: unknown keywords and ambiguous types in the schema itself are errors too.
  compiled ??= new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true }).compile(auditSchema());
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
