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

/**
 * `value` on one line, or undefined as soon as that is longer than `budget` characters:
 * stringify asks this of every object at every depth, so building all of a 1 MB
 * document's one-line text at each level would be quadratic in the depth.
 */
function inline(value: unknown, budget: number): string | undefined {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text.length <= budget ? text : undefined;
  }
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? value.map((v) => ["", v])
    : Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [`${JSON.stringify(k)}: `, v]);
  if (entries.length === 0) return isArray ? "[]" : "{}";
  const [open, close] = isArray ? ["[", "]"] : ["{ ", " }"];
  let text = open;
  for (const [i, [key, v]] of entries.entries()) {
    const separator = i === 0 ? "" : ", ";
    const item = inline(v, budget - text.length - separator.length - key.length - close.length);
    if (item === undefined) return undefined;
    text += separator + key + item;
  }
  text += close;
  return text.length <= budget ? text : undefined;
}

export function stringify(value: unknown, indent: number, prefix = 0): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const flat = inline(value, WIDTH - indent - prefix);
  if (flat !== undefined) return flat;
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + stringify(v, indent + 2)).join(",\n")}\n${" ".repeat(indent)}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${stringify(v, indent + 2, JSON.stringify(k).length + 2)}`).join(",\n")}\n${" ".repeat(indent)}}`;
}
