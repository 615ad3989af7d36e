import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { cost } from "../../src/cost/cost.ts";
import { closedFormCovers, networkTotals, shapeTotals } from "../../src/cost/totals.ts";
import { lower } from "../../src/lowering/lower.ts";
import { scaledShape } from "../../src/scaling/scale.ts";
import { PADDING_RULES } from "../../src/vocabulary/conventions.ts";
import { compilePath, SHIPPED_SPECS } from "../report/helpers.ts";

/**
 * The fast exact cost (src/cost/totals.ts, the operators' closed forms) against the IR
 * path (lower → cost), which the tfjs models' countParams() is tested against: equal
 * parameters (trainable and not) and MACs for every shipped variant under both
 * conventions, and for random specs of every operator, kernel, stride and padding rule.
 */
const CONVENTIONS = ["keras", "torchvision"] as const;

function expectAgree(compilation: ReturnType<typeof compile>) {
  expect(compilation.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  for (const v of compilation.variants) {
    // A variant's own stage table (overrides: ResNet-18's BasicBlocks) may lack closed forms its spec's has.
    if (!closedFormCovers(v.scaled.spec)) continue;
    const ir = v.cost;
    const fast = networkTotals(v.scaled);
    expect({ variant: v.variant.name, params: fast.params, macs: fast.macs, emptyStage: fast.emptyStage }).toEqual({
      variant: v.variant.name,
      params: ir.params,
      macs: ir.macs,
      emptyStage: ir.emptyStage,
    });
    // scaledShape (no provenance) gives the same rounded table as scale().
    const shape = scaledShape(v.scaled.spec, v.variant.width, v.variant.depth, v.variant.resolution);
    expect(shape.channels).toEqual(v.scaled.stages.map((s) => s.channels.value));
    expect(shape.layers).toEqual(v.scaled.stages.map((s) => s.layers.value));
    expect(shapeTotals(v.scaled.spec, shape)).toEqual(fast);
  }
}

describe("fast exact cost", () => {
  for (const path of SHIPPED_SPECS)
    for (const convention of CONVENTIONS)
      it(`${path} under convention ${convention}: the IR's parameters and MACs`, () => {
        const compilation = compilePath(path, undefined, { convention, allowHuge: true });
        // Operators without a closed form yet (BasicBlock, grouped convolution, MobileNetV3's
        // expanded widths and hidden layer) take their totals from the IR (Costing.screen).
        if (!closedFormCovers(compilation.spec!)) return;
        expectAgree(compilation);
      });

  const operator = fc.oneof(
    fc.record({ kind: fc.constant("MBConv"), expand: fc.constantFrom(1, 3, 6), kernel: fc.constantFrom(3, 5) }),
    fc.record({ kind: fc.constant("FusedMBConv"), expand: fc.constantFrom(1, 4), kernel: fc.constantFrom(3, 1) }),
    fc.record({ kind: fc.constant("DSConv"), expand: fc.constant(1), kernel: fc.constantFrom(3, 5, 7) }),
    fc.record({ kind: fc.constant("Bottleneck"), expand: fc.constant(4), kernel: fc.constantFrom(3, 1) }),
  );
  const cell = (o: { kind: string; expand: number; kernel: number }) =>
    o.kind === "MBConv" || o.kind === "FusedMBConv"
      ? `${o.kind}${o.expand}, k${o.kernel}x${o.kernel}`
      : `${o.kind}, k${o.kernel}x${o.kernel}`;
  const randomSpec = fc.record({
    input: fc.integer({ min: 1, max: 9 }).map((m) => 8 * m),
    channels: fc.integer({ min: 1, max: 4 }),
    classes: fc.integer({ min: 1, max: 30 }),
    convention: fc.constantFrom(...CONVENTIONS),
    // Every padding rule, over the convention's (odd resolutions included: they tell Keras's
    // correct_pad and MobileNet's fixed ((0, 1), (0, 1)) apart).
    padding: fc.option(fc.constantFrom(...Object.keys(PADDING_RULES)), { nil: undefined }),
    se: fc.constantFrom(0, 0.25, 0.5),
    stem: fc.constantFrom(1, 3, 5, 7),
    maxPool: fc.option(fc.constantFrom(1, 3), { nil: undefined }),
    blocks: fc.array(
      fc.record({
        operator,
        stride: fc.constantFrom(1, 2),
        channels: fc.integer({ min: 1, max: 96 }),
        layers: fc.integer({ min: 1, max: 4 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    head: fc.constantFrom("Conv1x1 & Pooling & FC", "Pooling & FC"),
    headChannels: fc.integer({ min: 8, max: 200 }),
    width: fc.double({ min: 0.25, max: 3, noNaN: true }),
    depth: fc.double({ min: 0.5, max: 3, noNaN: true }),
    resolution: fc.integer({ min: 9, max: 100 }),
  });

  it("random specs: the IR's parameters and MACs (property)", () => {
    let checked = 0;
    fc.assert(
      fc.property(randomSpec, (r) => {
        const rows: [string, number, number][] = [[`Conv${r.stem}x${r.stem}`, 16, 1]];
        if (r.maxPool) rows.push([`MaxPool${r.maxPool}x${r.maxPool}`, 16, 1]);
        for (const b of r.blocks) rows.push([cell(b.operator), b.channels, b.layers]);
        const strides = [2, ...(r.maxPool ? [2] : []), ...r.blocks.map((b) => b.stride)];
        let resolution = r.input;
        const table = rows.map(([op, ch, layers], i) => {
          const row = `| ${op} | ${resolution}x${resolution} | ${ch} | ${layers} |`;
          // Table 1's convention: a stride is the ratio of a row's resolution to the next one's.
          if (resolution % 2 === 0) resolution /= strides[i];
          return row;
        });
        const headChannels = r.head === "Pooling & FC" ? rows[rows.length - 1][1] : r.headChannels;
        table.push(`| ${r.head} | ${resolution}x${resolution} | ${headChannels} | 1 |`);
        const text = `network Random {
  input ${r.input}x${r.input}x${r.channels}
  classes ${r.classes}
  activation relu
  squeeze_excite ${r.se}
  convention ${r.convention}${r.padding ? `\n  padding ${r.padding}` : ""}
  stages {
    | Operator | Resolution | Channels | Layers |
${table.map((t) => `    ${t}`).join("\n")}
  }
  scaling {
    depth round ceil
    width round multiple 8 keep 0.9
  }
  variants {
    | Name | Width | Depth | Resolution |
    | Base | 1.0   | 1.0   | ${r.input} |
    | V    | ${r.width} | ${r.depth} | ${r.resolution} |
  }
}
`;
        const compilation = compile({ path: "random.effnet", text }, { allowHuge: true });
        if (!compilation.ok) return; // a stage table the checker refuses (e.g. a stride it cannot infer)
        checked++;
        expectAgree(compilation);
        // And straight from the IR of a freshly lowered network, not only the compilation's.
        for (const v of compilation.variants) expect(networkTotals(v.scaled).macs).toBe(cost(lower(v.scaled)).macs);
      }),
      { numRuns: 300, seed: 20261201 },
    );
    expect(checked).toBeGreaterThan(250);
  });
});
