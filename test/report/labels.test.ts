import { describe, expect, it } from "vitest";
import { applicablePlots, PLOTS } from "../../src/report/plots.ts";
import { intersects, labelBox, type Box } from "../../src/report/svg.ts";
import { audit } from "../../src/report/audit.ts";
import { compilePath, SHIPPED_SPECS, GOLDEN_SPEC, auditPath } from "./helpers.ts";

/**
 * Point labels never overlap and never leave the plot frame (issue 11), on the shipped
 * specs and on a crowded one (twelve variants a few percent apart, whose labels all want
 * the same place); every point has a tooltip; tick labels are in each tick's own unit.
 */
const CROWDED = `network Crowded {
  input 32x32x3
  classes 10
  stages {
    | Stage | Operator               | Resolution | Channels | Layers |
    | 1     | Conv3x3                | 32x32      | 16       | 1      |
    | 2     | MBConv6, k3x3          | 16x16      | 24       | 2      |
    | 3     | Conv1x1 & Pooling & FC | 8x8        | 160      | 1      |
  }
  variants {
    | Name | Width | Depth | Resolution |
${Array.from({ length: 12 }, (_, i) => `    | V${i}  | ${(1 + i * 0.01).toFixed(2)}  | 1.0   | ${32 + 8 * Math.floor(i / 4)} |`).join("\n")}
  }
}
`;

function labelsOf(svg: string): { boxes: Box[]; frame: Box; texts: string[] } {
  // Bar charts have no frame and no point labels.
  const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg) ?? [
    "",
    "0",
    "0",
    "0",
    "0",
  ];
  const found = [...svg.matchAll(/<text class="point-label" x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]*)</g)];
  return {
    frame: { x: +frame[1], y: +frame[2], width: +frame[3], height: +frame[4] },
    // The text's y is its baseline, 9 px below the box's top (svg.ts, LABEL_ASCENT).
    boxes: found.map((m) => labelBox(+m[1], +m[2] - 9, m[3])),
    texts: found.map((m) => m[3]),
  };
}

function expectClean(svg: string): number {
  const { boxes, frame } = labelsOf(svg);
  for (const [i, a] of boxes.entries()) {
    expect(a.x).toBeGreaterThanOrEqual(frame.x);
    expect(a.y).toBeGreaterThanOrEqual(frame.y);
    expect(a.x + a.width).toBeLessThanOrEqual(frame.x + frame.width);
    expect(a.y + a.height).toBeLessThanOrEqual(frame.y + frame.height);
    for (const b of boxes.slice(i + 1)) expect(intersects(a, b)).toBe(false);
  }
  // Every marker says what it is on hover.
  const circles = svg.match(/<circle [^>]*>/g) ?? [];
  const legendDots = (svg.match(/<circle [^>]*\/>/g) ?? []).length;
  expect((svg.match(/<circle [^>]*><title>/g) ?? []).length).toBe(circles.length - legendDots);
  return boxes.length;
}

describe("plot labels", () => {
  it.each([...SHIPPED_SPECS, GOLDEN_SPEC])("%s: labels apart, inside the frame, every point with a tooltip", (spec) => {
    const doc = auditPath(spec);
    for (const plot of applicablePlots(doc)) {
      const svg = PLOTS[plot].draw(doc);
      const placed = expectClean(svg);
      // On the shipped specs every variant keeps its label.
      if (plot === "macs-params") expect(placed).toBe(doc.variants.length);
    }
  });

  it("a crowded spec: no two label boxes intersect, none leaves the frame, most are placed", () => {
    const compilation = compilePath("crowded.effnet", CROWDED);
    expect(compilation.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const doc = audit(compilation);
    expect(doc.variants.length).toBe(12);
    const svg = PLOTS["macs-params"].draw(doc);
    const placed = expectClean(svg);
    expect(placed).toBeGreaterThanOrEqual(6);
  });

  it("captions say only what is true for the spec: no cited figures, no word of them and no counted-vs-cited plot", () => {
    const doc = audit(compilePath("crowded.effnet", CROWDED));
    expect(applicablePlots(doc)).not.toContain("counted-cited");
    expect(PLOTS["macs-params"].caption(doc)).not.toMatch(/cite/);
    const cited = auditPath(GOLDEN_SPEC);
    expect(applicablePlots(cited)).toContain("counted-cited");
    expect(PLOTS["macs-params"].caption(cited)).toMatch(/cite/);
  });

  it("ticks read in their own units (2M, 5M), never fractions of a larger one (0.01G)", () => {
    const svg = PLOTS["macs-params"].draw(auditPath(GOLDEN_SPEC));
    expect(svg).toMatch(/>2M</);
    expect(svg).not.toMatch(/>0\.\d+G</);
  });
});
