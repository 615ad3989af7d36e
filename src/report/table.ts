/** Plain-text tables for terminals and CI logs: aligned columns, no box drawing. */
export type Align = "left" | "right";

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

const width = (s: string) => s.replace(/\p{M}/gu, "").replace(/\x1b\[[0-9;]*m/g, "").length;

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], indent = ""): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, i) => {
        const pad = " ".repeat(widths[i] - width(cell));
        return columns[i].align === "right" ? pad + cell : cell + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
}
