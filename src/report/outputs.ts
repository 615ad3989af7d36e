import { join } from "node:path";
import type { AuditDocument } from "./audit.ts";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderMarkdown } from "./markdown.ts";
import { applicablePlots, plotFile, type PlotName } from "./plots.ts";

/** The one table of report formats: `effnet report --format NAME`. */
export const REPORT_FORMATS = {
  json: { extension: "json", description: "the audit document, validated against schema/audit.schema.json" },
  md: {
    extension: "md",
    description: "Markdown: variant, compound-scaling, preset, budget, memory, stage and layer tables",
  },
  html: { extension: "html", description: "one self-contained HTML file: the Markdown report's tables plus SVG plots" },
  svg: { extension: "svg", description: "one plot (--plot) as a standalone SVG file" },
} as const;

export type ReportFormat = keyof typeof REPORT_FORMATS;

export function renderReport(
  doc: AuditDocument,
  format: Exclude<ReportFormat, "svg">,
  plotFiles?: Partial<Record<PlotName, string>>,
): string {
  switch (format) {
    case "json":
      return renderJson(doc);
    case "md":
      return renderMarkdown(doc, { plotFiles });
    case "html":
      return renderHtml(doc);
  }
}

/** Base name of a network's report files: the network's name in lower case (`efficientnet.md`). */
export const reportBaseName = (doc: AuditDocument) => doc.network!.name.toLowerCase();

/**
 * Every report file of one spec, as `effnet report FILE --out-dir DIR` writes them:
 * <network>.json, .md, .html, and <network>.<plot>.svg for each plot that applies
 * (the Markdown links to them). The staleness test regenerates these in memory.
 */
export function reportFiles(doc: AuditDocument, dir: string): { path: string; content: string }[] {
  const base = reportBaseName(doc);
  const plots = applicablePlots(doc);
  const plotFiles = Object.fromEntries(plots.map((p) => [p, `${base}.${p}.svg`])) as Partial<Record<PlotName, string>>;
  return [
    { path: join(dir, `${base}.json`), content: renderReport(doc, "json") },
    { path: join(dir, `${base}.md`), content: renderReport(doc, "md", plotFiles) },
    { path: join(dir, `${base}.html`), content: renderReport(doc, "html") },
    ...plots.map((p) => ({ path: join(dir, plotFiles[p]!), content: plotFile(doc, p) })),
  ];
}
