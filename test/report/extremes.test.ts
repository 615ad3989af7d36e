import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli as run } from "../helpers/cli.ts";
import { lineChart } from "../../src/report/svg.ts";
import { GOLDEN_SPEC } from "./helpers.ts";

/**
 * Regressions from issue 15's fuzzing: specs that `check` accepts must render in every
 * format, and the spec's path is untrusted text in every output language.
 */
const work = mkdtempSync(join(tmpdir(), "effnet-report-extremes-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A network that costs 0 MACs and has 0 parameters: the log-scale axes once looped forever on it. */
const ZERO_COST = `network Zero {
  input 32x32x3
  classes 10
  stages {
    | Stage | Operator   | Resolution | #Channels | #Layers |
    | 1     | MaxPool3x3 | 32x32      | 3         | 1       |
  }
}
`;

describe("report on extreme networks", () => {
  it.each(["md", "html", "json", "svg"])(
    "refuses a zero-cost network with EFF4002 in %s, never hanging",
    async (format) => {
      const spec = join(work, "zero.effnet");
      writeFileSync(spec, ZERO_COST);
      const r = await run("report", spec, "--format", format);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[EFF4002]");
      expect(r.stderr).not.toContain("internal error");
    },
  );

  it("draws log axes over zero, overflowed and NaN values without looping or printing NaN", () => {
    const log = (label: string) => ({ label, scale: "log10" as const, format: (v: number) => String(v) });
    const svg = lineChart({
      id: "t",
      title: "extremes",
      x: log("x"),
      y: { ...log("y"), scale: "log2" },
      series: [{ name: "s", color: "#000", points: [0, 1e-300, 1, 1e308, Infinity, NaN].map((v) => ({ x: v, y: v })) }],
    });
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg.match(/<circle|<polyline/g)?.length ?? 0).toBeGreaterThan(0);
    const empty = lineChart({ id: "e", title: "empty", x: log("x"), y: log("y"), series: [] });
    expect(empty).toContain("</svg>");
  });

  // Fuzz seed 8001 case 747781 (test/fuzz-regressions/alpha-1e308-growth-axis.effnet): a tick
  // rounded up to 2^1024 or 10^309 is Infinity, one rounded down to 10^-325 is 0.
  it.each([
    ["log2", 1e308],
    ["log10", 1e308],
    ["log2", Number.MAX_VALUE],
    ["log10", Number.MAX_VALUE],
    ["log2", Number.MIN_VALUE],
    ["log10", Number.MIN_VALUE],
  ] as const)("puts a %s axis over %s inside the frame, every tick a number", (scale, value) => {
    const svg = lineChart({
      id: "t",
      title: "edge",
      x: { label: "x", scale: "linear", format: String },
      y: { label: "y", scale, format: String },
      series: [{ name: "s", color: "#000", marker: "dot", line: "none", points: [{ x: 1, y: value }] }],
    });
    expect(svg).not.toMatch(/NaN|Infinity/);
    const frame = svg.match(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="none"/)!;
    const [top, bottom] = [Number(frame[1]), Number(frame[1]) + Number(frame[2])];
    const cy = Number(svg.match(/<circle cx="[\d.]+" cy="([\d.-]+)"/)![1]);
    expect(cy).toBeGreaterThanOrEqual(top);
    expect(cy).toBeLessThanOrEqual(bottom);
  });

  it("refuses α = β = γ = 1 (φ would scale nothing) with EFF2035 instead of printing NaN", async () => {
    const text = readFileSync("specs/efficientnet.effnet", "utf8")
      .replace(/alpha 1\.2/, "alpha 1")
      .replace(/beta 1\.1/, "beta 1")
      .replace(/gamma 1\.15/, "gamma 1")
      .replace(/^\s*require .*$/m, "");
    const spec = join(work, "ones.effnet");
    writeFileSync(spec, text);
    for (const command of ["check", "audit", "report"]) {
      const r = await run(command, spec);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[EFF2035]");
      expect(r.stdout).not.toMatch(/NaN|Infinity/);
    }
  });
});

describe("the spec's path in report comments", () => {
  const hostile = join(work, "x--><script>alert(1)<!--");
  mkdirSync(hostile, { recursive: true });
  const spec = join(hostile, "my--net.effnet");
  writeFileSync(spec, readFileSync(GOLDEN_SPEC, "utf8"));

  it.each(["md", "html", "svg"])("cannot end a comment or open a tag in %s", async (format) => {
    const r = await run("report", spec, "--format", format);
    expect(r.code).toBe(0);
    // Markdown shows the path in a code span, where CommonMark reads `<` literally.
    const live = format === "md" ? r.stdout.replace(/`[^`\n]*`/g, "") : r.stdout;
    expect(live).not.toContain("<script>");
    // Every comment opened is closed exactly once, and nothing inside it says `--`.
    for (const [, body] of r.stdout.matchAll(/<!--([\s\S]*?)-->/g)) expect(body).not.toContain("--");
  });
});
