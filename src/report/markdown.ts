import { displayWidth } from "../text/width.ts";
import type { AuditDocument } from "./audit.ts";
import { banner, type Block, type TableColumn } from "./blocks.ts";
import { reportBlocks, type ContentOptions } from "./content.ts";
import type { PlotName } from "./plots.ts";
import { xmlComment } from "./svg.ts";

/**
 * The Markdown report (GitHub-flavoured: pipe tables, <details> for the long layer
 * tables). Tables are padded to aligned columns so the file reads well as plain text
 * and diffs row by row.
 */
export interface MarkdownOptions extends ContentOptions {
  /** Where each plot's SVG file is, relative to the Markdown file; plots without one are described, not drawn. */
  readonly plotFiles?: Partial<Record<PlotName, string>>;
}

export function renderMarkdown(doc: AuditDocument, options: MarkdownOptions = {}): string {
  return markdownPage(reportBlocks(doc, options), banner(doc.source), options);
}

/** Any blocks as a Markdown file, the banner a leading comment. */
export function markdownPage(blocks: readonly Block[], bannerText: string, options: MarkdownOptions = {}): string {
  const out = [xmlComment(bannerText), ""];
  for (const block of blocks) out.push(...renderBlock(block, options), "");
  return (
    out
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trimEnd() + "\n"
  );
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

function renderBlock(block: Block, options: MarkdownOptions): string[] {
  switch (block.kind) {
    case "heading":
      return [`${"#".repeat(block.level)} ${block.text}`];
    case "paragraph":
      return [block.text];
    case "list":
      return block.items.map((i) => `- ${i}`);
    case "table":
      return table(block.columns, block.rows);
    case "contents":
      return ["**Contents**", "", ...block.entries.map((e) => `${"  ".repeat(e.level - 2)}- [${e.text}](#${e.id})`)];
    case "details":
      return [
        `<details>`,
        `<summary>${block.summary}</summary>`,
        "",
        ...block.blocks.flatMap((b) => [...renderBlock(b, options), ""]),
        `</details>`,
      ];
    case "figure": {
      const file = options.plotFiles?.[block.plot as PlotName];
      return file
        ? [`![${block.caption.split(". ")[0]}](${file})`, "", `_${block.caption}_`]
        : [`_${block.caption}_ (The SVG plot is in the HTML report: \`effnet report --format html\`.)`];
    }
  }
}

function table(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string[] {
  const cells = [columns.map((c) => cell(c.header)), ...rows.map((r) => r.map(cell))];
  const cellWidths = cells.map((r) => r.map(displayWidth));
  const widths = columns.map((_, i) => cellWidths.reduce((w, r) => Math.max(w, r[i] ?? 0), 3));
  const line = (r: readonly string[], ri: number) =>
    `| ${r.map((x, i) => (columns[i].align === "right" ? " ".repeat(widths[i] - cellWidths[ri][i]) + x : x + " ".repeat(widths[i] - cellWidths[ri][i]))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (columns[i].align === "right" ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ")} |`;
  return [line(cells[0], 0), rule, ...cells.slice(1).map((r, i) => line(r, i + 1))];
}
