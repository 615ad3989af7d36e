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
 * Compact JSON (`{"a":1,"b":[1,2]}`) in the one-line layout (`{ "a": 1, "b": [1, 2] }`):
 * a space after every `:` and `,` and inside non-empty braces, none inside strings. The
 * compact text comes from the native JSON.stringify, so the layout costs one pass over
 * the characters of what fits on a line, not a walk of the document in JavaScript for
 * every level it is nested at (most of `effnet audit --json`'s time, cold, before).
 */
function spaced(compact: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < compact.length; i++) {
    const ch = compact[i];
    if (ch === '"') {
      for (i++; compact[i] !== '"'; i++) if (compact[i] === "\\") i++;
    } else if (ch === ":" || ch === ",") {
      out += compact.slice(from, i + 1) + " ";
      from = i + 1;
    } else if (ch === "{" && compact[i + 1] !== "}") {
      out += compact.slice(from, i + 1) + " ";
      from = i + 1;
    } else if (ch === "}" && compact[i - 1] !== "{") {
      out += compact.slice(from, i) + " ";
      from = i;
    }
  }
  return out + compact.slice(from);
}

/**
 * A lower bound on the length of `value`'s compact JSON, or Infinity as soon as that
 * exceeds `budget`: a walk that stops early, so asking it of a large subtree at every
 * level it is nested at costs no more than the budget each time (native JSON.stringify
 * would write the whole subtree). A lower bound, because escapes in strings are not
 * counted; whether the text really fits is decided on the text itself.
 */
function compactLength(value: unknown, budget: number): number {
  if (typeof value === "string") return value.length + 2;
  if (typeof value === "number") return Number.isFinite(value) ? String(value).length : 4;
  if (value === null || typeof value !== "object") return value === false ? 5 : 4;
  const isArray = Array.isArray(value);
  let length = 1;
  let first = true;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined && !isArray) continue;
    length += (first ? 1 : 2) + (isArray ? 0 : key.length + 3);
    first = false;
    if (length > budget) return Infinity;
    length += compactLength(v, budget - length);
    if (length > budget) return Infinity;
  }
  return first ? 2 : length;
}

export function stringify(value: unknown, indent: number, prefix = 0): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  // The one-line form is never shorter than the compact one.
  const budget = WIDTH - indent - prefix;
  if (compactLength(value, budget) <= budget) {
    const flat = spaced(JSON.stringify(value));
    if (flat.length <= budget) return flat;
  }
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + stringify(v, indent + 2)).join(",\n")}\n${" ".repeat(indent)}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${stringify(v, indent + 2, JSON.stringify(k).length + 2)}`).join(",\n")}\n${" ".repeat(indent)}}`;
}
