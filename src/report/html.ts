import type { AuditDocument } from "./audit.ts";
import { banner, type Block } from "./blocks.ts";
import { reportBlocks, type ContentOptions } from "./content.ts";
import { escapeXml, xmlComment } from "./svg.ts";

/**
 * The single-file HTML report: the same blocks as the Markdown report, with the plots
 * inline as SVG. No scripts, no external resources (fonts, styles, images): it opens
 * offline, from a mail attachment or a CI artifact, and looks the same everywhere.
 */
const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 14px; line-height: 1.45; color: #222; max-width: 1280px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.7em; border-bottom: 2px solid #4e79a7; padding-bottom: .2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .15em; }
h3 { font-size: 1.1em; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em; background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
.table { overflow-x: auto; margin: .8em 0; }
table { border-collapse: collapse; font-size: .88em; }
th, td { padding: .25em .6em; border-bottom: 1px solid #e3e3e3; white-space: nowrap; }
th { background: #f5f7fa; border-bottom: 2px solid #ccc; text-align: left; }
.r { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #fafbfd; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; max-width: 740px; font-size: .92em; }
details { margin: .8em 0; }
nav.contents { background: #f5f7fa; border: 1px solid #e3e3e3; padding: .5em 1em; display: inline-block; }
nav.contents ul { margin: .3em 0; padding-left: 1.2em; columns: 2; column-gap: 2.5em; }
nav.contents li.level-3 { margin-left: 1em; }
summary { cursor: pointer; color: #4e79a7; }
`.trim();

export function renderHtml(doc: AuditDocument, options: ContentOptions = {}): string {
  return htmlPage(reportBlocks(doc, options), banner(doc.source), doc.source);
}

/** Any blocks as the single-file page: the title is the first heading's (else `fallbackTitle`), the banner a comment. */
export function htmlPage(blocks: readonly Block[], bannerText: string, fallbackTitle: string): string {
  const title = blocks.find((b) => b.kind === "heading")?.text ?? fallbackTitle;
  return [
    "<!DOCTYPE html>",
    xmlComment(bannerText),
    `<html lang="en">`,
    "<head>",
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeXml(title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    "</head>",
    "<body>",
    ...blocks.map(renderBlock),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** Plain text with the two inline marks of blocks.ts: `code` and **strong**. */
export function inline(text: string): string {
  return escapeXml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case "heading":
      return `<h${block.level} id="${block.id}">${inline(block.text)}</h${block.level}>`;
    case "paragraph":
      return `<p>${inline(block.text)}</p>`;
    case "list":
      return `<ul>\n${block.items.map((i) => `<li>${inline(i)}</li>`).join("\n")}\n</ul>`;
    case "table": {
      const cls = (i: number) => (block.columns[i].align === "right" ? ` class="r"` : "");
      return [
        `<div class="table"><table>`,
        `<thead><tr>${block.columns.map((c, i) => `<th${cls(i)}>${inline(c.header)}</th>`).join("")}</tr></thead>`,
        "<tbody>",
        ...block.rows.map((r) => `<tr>${r.map((x, i) => `<td${cls(i)}>${inline(x)}</td>`).join("")}</tr>`),
        "</tbody>",
        "</table></div>",
      ].join("\n");
    }
    case "contents":
      return [
        `<nav class="contents" aria-label="Contents"><strong>Contents</strong>`,
        `<ul>`,
        ...block.entries.map((e) => `<li class="level-${e.level}"><a href="#${e.id}">${inline(e.text)}</a></li>`),
        `</ul></nav>`,
      ].join("\n");
    case "details":
      return [
        `<details>`,
        `<summary>${inline(block.summary)}</summary>`,
        ...block.blocks.map(renderBlock),
        `</details>`,
      ].join("\n");
    case "figure":
      return [
        `<figure id="plot-${block.plot}">`,
        block.svg,
        `<figcaption>${inline(block.caption)}</figcaption>`,
        `</figure>`,
      ].join("\n");
  }
}
