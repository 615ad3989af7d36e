import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { auditSchemaErrors } from "../../src/report/schema.ts";
import { displayWidth } from "../../src/text/width.ts";
import { runCli as run } from "../helpers/cli.ts";

/**
 * The terminal audit and the layer summary (issue 11): goldens of B0's summary at depths 1
 * and 2 and of the whole audit at 80 and 120 columns (UPDATE_GOLDEN=1 rewrites them; review
 * the diff), no line past the width, the JSON hierarchy adding up, and the options' errors.
 */
const update = process.env.UPDATE_GOLDEN === "1";
const work = mkdtempSync(join(tmpdir(), "effnet-summary-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SPEC = "specs/efficientnet.effnet";

function golden(name: string, text: string): void {
  const path = `test/report/golden/${name}`;
  if (update || !existsSync(path)) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, "utf8"));
}

const widest = (text: string) => Math.max(...text.split("\n").map(displayWidth));

describe("effnet audit in a terminal", () => {
  it.each([1, 2])("B0 --layers --depth %i matches its golden", async (depth) => {
    const r = await run("audit", SPEC, "--variant", "B0", "--layers", "--depth", String(depth));
    expect(r.code).toBe(0);
    golden(`efficientnet-b0-layers-depth${depth}.txt`, r.stdout);
    expect(widest(r.stdout)).toBeLessThanOrEqual(120);
  });

  it.each([80, 120])("the whole audit at --width %i matches its golden, no line longer", async (width) => {
    const r = await run("audit", SPEC, "--width", String(width));
    expect(r.code).toBe(0);
    golden(`efficientnet-audit-${width}.txt`, r.stdout);
    expect(widest(r.stdout)).toBeLessThanOrEqual(width);
  });

  it("fits every table and paragraph of the layer summary into 80 columns, B7 included", async () => {
    const r = await run(
      "audit",
      SPEC,
      "--variant",
      "B7",
      "--layers",
      "--columns",
      "layer,class,connected",
      "--width",
      "80",
    );
    expect(r.code).toBe(0);
    expect(widest(r.stdout)).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain("Connected to");
    expect(r.stdout).toContain("block7d_add");
  });

  it.each(["test/report/golden/tiny.effnet", "specs/mobilenetv2.effnet", "specs/resnet50.effnet"])(
    "%s: every section, stage table and summary fits 40 and 60 columns",
    async (spec) => {
      for (const width of [40, 60]) {
        const r = await run("audit", spec, "--all", "--stages", "--layers", "--batch", "1,8", "--width", String(width));
        expect(r.code).toBe(0);
        expect(widest(r.stdout)).toBeLessThanOrEqual(width);
      }
    },
  );

  it("--columns picks the summary's columns in the order given", async () => {
    const r = await run("audit", SPEC, "--variant", "B0", "--layers", "--depth", "3", "--columns", "macs,layer,class");
    const header = r.stdout.split("\n").find((l) => l.includes("Layer") && l.includes("Class"))!;
    expect(header.trim().split(/\s{2,}/)).toEqual(["MACs", "Layer", "Class"]);
    expect(r.stdout).toMatch(/10,838,016 {2}\s*stem_conv\s+Conv2D/);
  });

  it("leaves the family's sections out for one variant unless --all", async () => {
    const one = await run("audit", SPEC, "--variant", "B0");
    expect(one.stdout).not.toContain("Compound scaling");
    expect(one.stdout).not.toContain("Rounding presets");
    const all = await run("audit", SPEC, "--variant", "B0", "--all");
    expect(all.stdout).toContain("Compound scaling");
    expect(all.stdout).toContain("Rounding presets");
  });

  it("prints one unit per column: no MACs column mixes M and G", async () => {
    const r = await run("audit", "test/report/golden/tiny.effnet", "--width", "200");
    const header = r.stdout.split("\n").find((l) => l.startsWith("Variant"))!;
    expect(header).toContain("MACs (M)");
    expect(r.stdout).not.toMatch(/\d G\b/);
  });

  it("--depth 0 prints the footer only, in torchinfo's units", async () => {
    // torchvision's function (no in-model preprocessing), so the figures are torchvision's B0's.
    const torchvisionSpec = join(work, "efficientnet-torchvision.effnet");
    writeFileSync(
      torchvisionSpec,
      readFileSync(SPEC, "utf8").replace(/^(\s*)convention keras\b/m, "$1convention torchvision"),
    );
    const r = await run("audit", torchvisionSpec, "--variant", "B0", "--layers", "--depth", "0");
    const summary = r.stdout.slice(r.stdout.indexOf("B0: layers"));
    expect(summary).not.toContain("Layer ");
    // B0's input, 224 × 224 × 3 float32 = 602,112 bytes = 0.60 MB; parameters 5,330,564 × 4 bytes = 21.32 MB.
    expect(summary).toContain("Input size (MB): 0.60");
    expect(summary).toContain("Params size (MB): 21.32");
    expect(summary).toContain("Total params: 5,330,564");
    // torchvision's B0 under torchinfo's rule, measured by test/report/reference/torchinfo_sizes.py.
    const reference = /forward\/backward MB ([\d.]+)/.exec(
      readFileSync("test/report/reference/torchinfo_sizes.txt", "utf8"),
    )![1];
    expect(summary).toContain(`Forward/backward pass size (MB): ${reference} `);
  });

  it("refuses unknown columns and depths, and suggests options for typos", async () => {
    const columns = await run("audit", SPEC, "--layers", "--columns", "layer,flops");
    expect(columns.code).toBe(2);
    expect(columns.stderr).toContain("unknown column `flops`");
    expect((await run("audit", SPEC, "--layers", "--depth", "4")).code).toBe(2);
    expect((await run("audit", SPEC, "--width", "10")).code).toBe(2);
    const typo = await run("audit", SPEC, "--varient", "B0");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option `--varient`; did you mean `--variant`?");
  });
});

describe("the layer hierarchy in --json", () => {
  it("groups every layer into one block of its stage, and the subtotals add up", async () => {
    const r = await run("audit", SPEC, "--variant", "B0", "--json");
    const doc = JSON.parse(r.stdout);
    expect(auditSchemaErrors(doc)).toEqual([]);
    const v = doc.variants[0];
    const layers = new Map<string, { params: { total: number }; macs: number; stage: number; className: string }>(
      v.layers.map((l: { name: string }) => [l.name, l]),
    );
    const grouped = v.stages.flatMap((s: { blocks: { layers: string[] }[] }) => s.blocks.flatMap((b) => b.layers));
    // Every layer but the input and its preprocessing (stage 0, listed before the stages) is in exactly one block.
    expect(grouped.length).toBe(v.layers.filter((l: { stage: number }) => l.stage !== 0).length);
    expect(new Set(grouped).size).toBe(grouped.length);
    for (const s of v.stages) {
      const sum = (f: (b: { params: { total: number }; macs: number }) => number) =>
        s.blocks.reduce((a: number, b: { params: { total: number }; macs: number }) => a + f(b), 0);
      expect(sum((b) => b.params.total)).toBe(s.params.total);
      expect(sum((b) => b.macs)).toBe(s.macs);
      for (const b of s.blocks) for (const n of b.layers) expect(layers.get(n)!.stage).toBe(s.stage);
    }
    // EfficientNet-B0: 16 MBConv blocks in stages 2-8 (Table 1's layer counts 1, 2, 2, 3, 3, 4, 1).
    expect(v.stages.slice(1, 8).map((s: { blocks: unknown[] }) => s.blocks.length)).toEqual([1, 2, 2, 3, 3, 4, 1]);
    expect(v.stages[2].blocks.map((b: { name: string }) => b.name)).toEqual(["block2a", "block2b"]);
    expect(layers.get("block2a_dwconv")).toMatchObject({ className: "DepthwiseConv2D", kernel: 3, strides: 2 });
    expect(layers.get("block1a_se_excite")).toMatchObject({
      className: "Multiply",
      inputs: ["block1a_activation", "block1a_se_expand"],
    });
  });
});

describe("commands say what to give", () => {
  it("check on a spec over its budget exits 1 with EFF4001", async () => {
    const over = join(work, "over.effnet");
    writeFileSync(
      over,
      readFileSync("test/report/golden/tiny.effnet", "utf8").replace("budget macs <= 20M", "budget macs <= 4M"),
    );
    const r = await run("check", over);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[EFF4001]");
  });

  it("predict without images names what it needs", async () => {
    const r = await run("predict", work);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing to classify: give PNG or JPEG files");
    expect(r.stderr).toContain("--synthetic N");
  });
});
