import type { AuditDocument } from "./audit.ts";
import { assertValidAudit } from "./schema.ts";

/**
 * JSON text of an audit document, validated against schema/audit.schema.json first, so
 * a NaN or an infinity (which JSON would write as null: Ajv's number type requires a finite
 * number) or a field the schema does not know can never be written. The document itself is
 * validated rather than its parsed text: the same verdict (a member that is undefined is
 * absent for both, an undefined array element an error here rather than a null there)
 * without parsing megabytes again. An invalid document throws, an internal error: nothing
 * is printed or written.
 *
 * Layout: two-space indentation, but any object or array that fits in 240 columns on one
 * line stays on one line (as prettier does below its print width), so a layer is one line and the
 * file reads like a table.
 */
export function renderJson(doc: AuditDocument): string {
  assertValidAudit(doc);
  return stringify(doc) + "\n";
}

const WIDTH = 240;

/**
 * Native JSON.stringify writes the document with one value per line; one pass over those
 * lines then joins every object or array that fits in WIDTH columns (its opening line's
 * indentation and key included, a trailing comma not) into one line, innermost first. Every
 * newline the native writer emits is layout, never part of a string (a string's newline is
 * the escape `\n`), and a line ends in `{` or `[` exactly when it opens a value, so the pass
 * needs no JSON parsing. It replaced a recursive walk that called JSON.stringify once per
 * value that fit, which was most of `effnet audit --json`'s time, cold.
 */
export function stringify(value: unknown): string {
  const text = JSON.stringify(value, null, 2);
  // The lines written so far and their indentation; positions and character codes rather
  // than trimmed copies, because this loop runs once per value of a megabyte document.
  const out: string[] = [];
  const indents: number[] = [];
  // One frame per value still open: where its opening line is in `out`, whether it is an
  // object, how many members it has so far, the length of its one-line form so far, and
  // whether it can still be one line (every member on one line, and short enough).
  const open: { start: number; curly: boolean; members: number; length: number; flat: boolean }[] = [];
  const addMember = (length: number, oneLine: boolean) => {
    const frame = open[open.length - 1];
    if (!frame?.flat) return;
    frame.length += (frame.members++ === 0 && !frame.curly ? 0 : 1) + length;
    frame.flat = oneLine && frame.length <= WIDTH;
  };
  for (let from = 0; from <= text.length;) {
    const newline = text.indexOf("\n", from);
    const end = newline < 0 ? text.length : newline;
    let indent = 0;
    while (text.charCodeAt(from + indent) === SPACE) indent++;
    const first = text.charCodeAt(from + indent);
    const last = text.charCodeAt(end - 1);
    let line = text.slice(from, end);
    from = end + 1;
    if (first === CLOSE_BRACE || first === CLOSE_BRACKET) {
      const frame = open.pop()!;
      const space = frame.curly ? " " : "";
      const closing = line.length - indent - (last === COMMA ? 1 : 0);
      const joined = frame.flat && frame.length + space.length + closing <= WIDTH;
      if (joined) {
        let one = out[frame.start] + space;
        for (let i = frame.start + 1; i < out.length; i++)
          one += (i > frame.start + 1 ? " " : "") + out[i].slice(indents[i]);
        line = one + space + line.slice(indent);
        out.length = indents.length = frame.start;
      }
      out.push(line);
      indents.push(indent);
      addMember(line.length - indent, joined);
    } else {
      out.push(line);
      indents.push(indent);
      if (last === OPEN_BRACE || last === OPEN_BRACKET)
        open.push({ start: out.length - 1, curly: last === OPEN_BRACE, members: 0, length: line.length, flat: true });
      else addMember(line.length - indent, true);
    }
  }
  return out.join("\n");
}

const [SPACE, COMMA, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [..." ,{}[]"].map((c) => c.charCodeAt(0));
