import { displayWidth } from "../text/width.ts";

/** Plain-text tables and prose for terminals and CI logs: aligned columns, no box drawing, fitted to a width. */
export type Align = "left" | "right";

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

/**
 * The width terminal output is fitted to when no `--width` is given: the terminal's own
 * columns when stdout is one, else 120 (a log or a file is read in an editor or a CI
 * page, where 120 columns is the common width and tables split less).
 */
export const DEFAULT_WIDTH = 120;
/** Narrower than this and no table can keep its first column beside another. */
export const MIN_WIDTH = 40;

const GAP = "  ";

/** Cuts a cell to `max` columns, marking the cut with an ellipsis. */
function clip(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  const chars = [...s];
  while (chars.length && displayWidth(chars.join("")) > max - 1) chars.pop();
  return chars.join("") + "…";
}

/** A header broken at spaces into lines no wider than `width` (or its longest word). */
function headerLines(header: string, width: number): string[] {
  return wrap(header, Math.max(width, ...header.split(" ").map(displayWidth)));
}

function renderOne(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent: string,
  maxCell: number,
  stackHeaders = false,
): string {
  const body = rows.map((r) => columns.map((_, i) => clip(r[i] ?? "", maxCell)));
  const dataWidth = columns.map((_, i) => Math.max(0, ...body.map((r) => displayWidth(r[i]))));
  const headers = columns.map((c, i) =>
    stackHeaders ? headerLines(c.header, dataWidth[i]).map((h) => clip(h, maxCell)) : [clip(c.header, maxCell)],
  );
  const depth = Math.max(...headers.map((h) => h.length));
  // Stacked headers are bottom-aligned, so the last line of each sits on the rule.
  const headerRows = Array.from({ length: depth }, (_, k) => headers.map((h) => h[k - (depth - h.length)] ?? ""));
  const cells = [...headerRows, ...body];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => displayWidth(r[i]))));
  const line = (r: readonly string[]) =>
    indent +
    r
      .map((cell, i) => {
        const pad = " ".repeat(widths[i] - displayWidth(cell));
        return columns[i].align === "right" ? pad + cell : cell + pad;
      })
      .join(GAP)
      .trimEnd();
  return [...headerRows.map(line), line(widths.map((w) => "─".repeat(w))), ...body.map(line)].join("\n");
}

/**
 * An aligned table no wider than `width`: when its columns do not fit, it is split into
 * several tables, each repeating the first (key) column, the others packed in order; a
 * cell wider than any table could hold is cut with an ellipsis (never a line past `width`).
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent = "",
  width = Infinity,
): string {
  const room = width - displayWidth(indent);
  const data = columns.map((_, i) => Math.max(0, ...rows.map((r) => displayWidth(r[i] ?? ""))));
  const fits = (widths: number[]) => widths.reduce((a, w) => a + w, 0) + GAP.length * (columns.length - 1) <= room;
  if (fits(columns.map((c, i) => Math.max(displayWidth(c.header), data[i]))) || columns.length === 1)
    return renderOne(columns, rows, indent, Math.max(1, room));
  // Too wide: headers stack onto several lines first (they are often wider than their numbers), then the table splits.
  const natural = columns.map((c, i) => Math.max(data[i], ...headerLines(c.header, data[i]).map(displayWidth)));
  if (fits(natural)) return renderOne(columns, rows, indent, Math.max(1, room), true);
  // The key column keeps at most half the room, so every part has space for others beside it.
  const key = Math.min(natural[0], Math.floor(room / 2));
  const groups: number[][] = [];
  let used = Infinity;
  for (let i = 1; i < columns.length; i++) {
    const w = Math.min(natural[i], room - key - GAP.length);
    if (used + GAP.length + w > room) {
      groups.push([]);
      used = key;
    }
    groups[groups.length - 1].push(i);
    used += GAP.length + w;
  }
  return groups
    .map((g) => {
      const picked = [0, ...g];
      return renderOne(
        picked.map((i) => (i === 0 ? { ...columns[0] } : columns[i])),
        rows.map((r) => picked.map((i) => (i === 0 ? clip(r[0] ?? "", key) : (r[i] ?? "")))),
        indent,
        room - key - GAP.length,
        true,
      );
    })
    .join("\n\n");
}

/**
 * Prose wrapped at word boundaries to `width` columns; `hanging` indents the lines after
 * the first (list items). A word longer than the width is broken.
 */
export function wrap(text: string, width: number, first = "", hanging = ""): string[] {
  const lines: string[] = [];
  let line: string | undefined;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === undefined) line = first + word;
    else if (displayWidth(`${line} ${word}`) <= width) line = `${line} ${word}`;
    else {
      lines.push(line);
      line = hanging + word;
    }
    while (displayWidth(line) > width && [...line].length > [...hanging].length + 1) {
      const chars: string[] = [...line];
      lines.push(chars.slice(0, width).join(""));
      line = hanging + chars.slice(width).join("");
    }
  }
  return line === undefined ? [first.trimEnd()] : [...lines, line];
}
