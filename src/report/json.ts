import type { AuditDocument } from "./audit.ts";
import { assertValidAudit } from "./schema.ts";

/**
 * JSON text of an audit document, validated against schema/audit.schema.json first:
 * what is validated is the parsed text itself, so a NaN (which JSON writes as null) or a
 * field the schema does not know can never be written. An invalid document throws, an
 * internal error: nothing is printed or written.
 *
 * Layout: two-space indentation, but any object or array that fits in 240 columns on one
 * line stays on one line (as prettier does below its print width), so a layer is one line and the
 * file reads like a table.
 */
export function renderJson(doc: AuditDocument): string {
  const text = stringify(doc, 0) + "\n";
  assertValidAudit(JSON.parse(text));
  return text;
}

const WIDTH = 240;

function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return entries.length ? `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(", ")} }` : "{}";
  }
  return JSON.stringify(value);
}

export function stringify(value: unknown, indent: number, prefix = 0): string {
  const flat = inline(value);
  if (indent + prefix + flat.length <= WIDTH || value === null || typeof value !== "object") return flat;
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + stringify(v, indent + 2)).join(",\n")}\n${" ".repeat(indent)}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${stringify(v, indent + 2, JSON.stringify(k).length + 2)}`).join(",\n")}\n${" ".repeat(indent)}}`;
}
