import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { format } from "prettier";
import { describe, expect, it } from "vitest";
import { reportFiles } from "../../src/report/outputs.ts";
import { auditPath, GOLDEN_SPEC } from "./helpers.ts";

/**
 * Golden reports of a small dedicated spec (test/report/golden/tiny.effnet): Markdown,
 * HTML, JSON and the SVG plots, compared byte for byte. UPDATE_GOLDEN=1 rewrites them;
 * review the diff before committing. The shipped specs' reports are covered by the
 * staleness test instead.
 */
const update = process.env.UPDATE_GOLDEN === "1";
const files = reportFiles(auditPath(GOLDEN_SPEC), "test/report/golden");

describe("report goldens", () => {
  it.each(files.map((f) => [f.path, f.content]))("%s", (path, content) => {
    if (update || !existsSync(path)) writeFileSync(path, content);
    expect(content).toBe(readFileSync(path, "utf8"));
  });

  it("renders the same bytes twice (no time stamps, no map-order effects)", () => {
    const again = reportFiles(auditPath(GOLDEN_SPEC), "test/report/golden");
    expect(again).toEqual(files);
  });

  it("writes Markdown that prettier leaves as it is", async () => {
    const md = files.find((f) => f.path.endsWith(".md"))!.content;
    expect(await format(md, { parser: "markdown", proseWrap: "preserve" })).toBe(md);
  });

  it("links the Markdown to the plots written beside it, and the HTML needs nothing outside itself", () => {
    const md = files.find((f) => f.path.endsWith(".md"))!.content;
    const svgs = files.filter((f) => f.path.endsWith(".svg")).map((f) => f.path.split("/").pop()!);
    expect(svgs.length).toBe(4);
    for (const svg of svgs) expect(md).toContain(`](${svg})`);
    const html = files.find((f) => f.path.endsWith(".html"))!.content;
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html.match(/<svg /g)?.length).toBe(4);
  });
});
