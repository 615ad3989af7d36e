import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
      expect(figures.length).toBe(3);
      expect(dom).toMatch(/<polyline|<circle/);
      const png = join(work, "report.png");
      expect(screenshot(chromium!, html, png, { width: 1280, height: 1600 })).toBeGreaterThan(20_000);
      // A PNG, not an error page.
      expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
    },
  );

  it.each([
    "test/report/golden/tiny.growth.svg",
    "generated/reports/efficientnet.macs-params.svg",
    "generated/reports/efficientnet.stage-macs.svg",
    "generated/reports/efficientnet.growth.svg",
  ])("%s is well-formed SVG", (svg) => {
    const dom = dumpDom(chromium!, svg);
    expect(dom).not.toMatch(XML_ERROR);
    expect(dom).toContain("<svg");
  });
});
