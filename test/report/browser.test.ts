import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dumpDom, findChromium, screenshot, XML_ERROR } from "./browser.ts";

/**
 * The HTML reports and SVG plots in a real browser (headless Chromium, Debian's
 * `chromium` package): they parse without errors, need no network, and draw. Skipped,
 * cleanly, where no Chromium is installed; `node --import tsx test/report/browser.ts`
 * takes a screenshot to look at.
 */
const chromium = findChromium();
const work = mkdtempSync(join(tmpdir(), "effnet-report-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!chromium)("reports in headless Chromium", () => {
  it.each(["test/report/golden/tiny.html", "generated/reports/efficientnet.html"])(
    "%s opens and draws its plots",
    (html) => {
      const dom = dumpDom(chromium!, html);
      expect(dom).toContain("</html>");
      const figures = dom.match(/<figure id="plot-[a-z-]+">\s*<svg /g) ?? [];
      expect(figures.length).toBe(4);
      expect(dom).toMatch(/<polyline|<circle/);
      const png = join(work, "report.png");
      expect(screenshot(chromium!, html, png, { width: 1280, height: 1600 })).toBeGreaterThan(20_000);
      // A PNG, not an error page.
      expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
    },
  );

  it.each(["test/report/golden/tiny.html", "generated/reports/efficientnet.html"])(
    "%s: laid out, the plots are above the first table and the contents above the plots",
    (html) => {
      // A copy with a script that measures the layout and writes it into the DOM (the report itself has no scripts).
      const probe = join(work, "probe.html");
      const measure = `<script>addEventListener("load", () => {
        const top = (q) => document.querySelector(q).getBoundingClientRect().top + scrollY;
        const figures = [...document.querySelectorAll("figure")].map((f) => f.getBoundingClientRect().bottom + scrollY);
        document.body.setAttribute("data-layout", JSON.stringify({ contents: top("nav.contents"), lastFigure: Math.max(...figures), firstFigure: top("figure"), table: top("table") }));
      });</script>`;
      writeFileSync(probe, readFileSync(html, "utf8").replace("</body>", `${measure}\n</body>`));
      const dom = dumpDom(chromium!, probe);
      const layout = JSON.parse(/data-layout="([^"]*)"/.exec(dom)![1].replace(/&quot;/g, '"'));
      expect(layout.contents).toBeLessThan(layout.firstFigure);
      expect(layout.lastFigure).toBeLessThan(layout.table);
      // The screenshot of the page's top shows the plots.
      const png = join(work, "top.png");
      expect(screenshot(chromium!, html, png, { width: 1280, height: 1400 })).toBeGreaterThan(20_000);
    },
  );

  it.each([
    "test/report/golden/tiny.growth.svg",
    "generated/reports/efficientnet.macs-params.svg",
    "generated/reports/efficientnet.counted-cited.svg",
    "generated/reports/efficientnet.stage-macs.svg",
    "generated/reports/efficientnet.growth.svg",
  ])("%s is well-formed SVG", (svg) => {
    const dom = dumpDom(chromium!, svg);
    expect(dom).not.toMatch(XML_ERROR);
    expect(dom).toContain("<svg");
  });
});
