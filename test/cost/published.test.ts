import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, type CompiledVariant } from "../../src/compile.ts";
import { audit } from "../../src/report/audit.ts";

/**
 * The audit against published reference figures (docs/reference.md):
 * Keras/torchvision EfficientNet-B0 5,288,548 trainable parameters and 42,016 batch-norm
 * moving statistics; Keras's total of 5,330,571 also counts the 7 statistics of its input
 * Normalization layer, which the keras convention emits and torchvision's does not (its
 * normalisation is a transform); B7 66,347,960; B0 0.386 G
 * multiply-adds (torchvision's published figure); torchvision MobileNetV2 3,504,872.
 * These numbers come from the references, not from effnet's output.
 */
function compileSpec(path: string) {
  const compilation = compile({ path, text: readFileSync(path, "utf8") });
  expect(compilation.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return compilation;
}

const efficientnet = compileSpec("specs/efficientnet.effnet");
const variant = (name: string): CompiledVariant => efficientnet.variants.find((v) => v.variant.name === name)!;

describe("EfficientNet against the reference implementations", () => {
  it("B0: 5,288,548 trainable, 42,016 BN statistics + 7 of Keras's Normalization, Keras's 5,330,571 in all", () => {
    const { params } = variant("B0").cost;
    expect(params.trainable).toBe(5_288_548);
    expect(params.nonTrainable).toBe(42_016 + 7);
    expect(params.total).toBe(5_330_571);
  });

  it("B0 under the torchvision convention: torchvision's 5,288,548 parameters + 42,016 running statistics", () => {
    const path = "specs/efficientnet.effnet";
    const tv = compile({ path, text: readFileSync(path, "utf8") }, { variants: ["B0"], convention: "torchvision" });
    const { params, macs } = tv.variants[0].cost;
    expect(params.trainable).toBe(5_288_548);
    expect(params.total).toBe(5_288_548 + 42_016);
    expect(macs).toBe(variant("B0").cost.macs);
  });

  it("B7: 66,347,960 trainable", () => {
    expect(variant("B7").cost.params.trainable).toBe(66_347_960);
  });

  it("B0: 0.386 G multiply-adds under the default convention, FLOPs = 2 × MACs", () => {
    const { macs, flops } = variant("B0").cost;
    expect((macs / 1e9).toFixed(3)).toBe("0.386");
    expect(flops).toBe(2 * macs);
  });

  it("prints every variant's MACs beside the paper's Table 2 figure, with the difference", () => {
    const doc = audit(efficientnet);
    const table2: Record<string, number> = {
      B0: 0.39e9,
      B1: 0.7e9,
      B2: 1.0e9,
      B3: 1.8e9,
      B4: 4.2e9,
      B5: 9.9e9,
      B6: 19e9,
      B7: 37e9,
    };
    for (const [name, paper] of Object.entries(table2)) {
      const v = doc.variants.find((x) => x.name === name)!;
      expect(v.reported.macs).toEqual({
        reported: paper,
        counted: v.macs,
        difference: v.macs - paper,
        relative: (v.macs - paper) / paper,
      });
    }
    // The facts file notes B4 counts about 4.39B by the reference rules, not the printed 4.2B.
    expect((doc.variants.find((x) => x.name === "B4")!.macs / 1e9).toFixed(2)).toBe("4.39");
  });

  it("gives every scaled number its provenance", () => {
    const stage6 = variant("B2").scaled.stages[5];
    expect(stage6.channels.provenance).toBe("112 × 1.1 = 123.2 → 120 (multiple of 8, ≥ 90%)");
    expect(stage6.layers.provenance).toBe("3 × 1.2 = 3.6 → 4 (ceil)");
    expect(variant("B7").scaled.stages[8].layers.provenance).toBe("1 (the head is not repeated)");
  });

  it("derives the φ variant from α, β, γ", () => {
    const b8 = efficientnet.spec!.variants.find((v) => v.phi !== undefined)!;
    expect(b8.depth).toBeCloseTo(1.2 ** 8, 12);
    expect(b8.width).toBeCloseTo(1.1 ** 8, 12);
    expect(b8.resolution % 8).toBe(0);
    expect(Math.abs(b8.resolution - 224 * 1.15 ** 8)).toBeLessThanOrEqual(4);
  });

  it("agrees with Keras's layer names and block structure", () => {
    const names = variant("B0").ir.layers.map((l) => l.name);
    for (const n of [
      "stem_conv",
      "stem_bn",
      "stem_activation",
      "block1a_dwconv",
      "block1a_se_reduce",
      "block1a_project_bn",
      "block2a_expand_conv",
      "block2b_add",
      "block7a_project_bn",
      "top_conv",
      "avg_pool",
      "top_dropout",
      "predictions",
    ]) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain("block1a_expand_conv"); // MBConv1 has no expansion
    expect(names.filter((n) => n.endsWith("_dwconv"))).toHaveLength(16); // 1+2+2+3+3+4+1 blocks
    // Keras: block1a_se_reduce has max(1, int(32 × 0.25)) = 8 filters (of the block's input channels).
    const seReduce = variant("B0").ir.layers.find((l) => l.name === "block1a_se_reduce")!;
    expect(seReduce.outputShape).toEqual([1, 1, 8]);
  });
});

describe("MobileNetV2 against torchvision", () => {
  it("has torchvision's 3,504,872 trainable parameters", () => {
    const compilation = compileSpec("specs/mobilenetv2.effnet");
    expect(compilation.variants.find((v) => v.variant.name === "V2")!.cost.params.trainable).toBe(3_504_872);
  });
});

describe("ResNet-50 against torchvision", () => {
  // torchvision ResNet50_Weights: "num_params": 25557032, "_ops": 4.089 (GMACs, the same
  // convention as its EfficientNet-B0 figure of 0.386).
  it("has torchvision's 25,557,032 parameters and 4.089 G multiply-adds", () => {
    const r50 = compileSpec("specs/resnet50.effnet").variants.find((v) => v.variant.name === "R50")!;
    expect(r50.cost.params.trainable).toBe(25_557_032);
    expect((r50.cost.macs / 1e9).toFixed(3)).toBe("4.089");
  });
});

describe("ResNet-152 against torchvision", () => {
  // scripts/reference/torchvision_params.py run with Debian's torchvision 0.14 (weights=None); its output is checked in.
  const reference = JSON.parse(readFileSync("scripts/reference/torchvision_params.json", "utf8")) as {
    models: Record<string, { params: number; macs: number }>;
  };
  it("has torchvision's resnet152 parameters and multiply-adds; ResNet-50 and B1 agree with the same script", () => {
    const r152 = compileSpec("specs/resnet152.effnet").variants[0];
    expect(r152.cost.params.trainable).toBe(reference.models.resnet152.params);
    expect(r152.cost.macs).toBe(reference.models.resnet152.macs);
    const r50 = compileSpec("specs/resnet50.effnet").variants.find((v) => v.variant.name === "R50")!;
    expect(r50.cost.params.trainable).toBe(reference.models.resnet50.params);
    expect(r50.cost.macs).toBe(reference.models.resnet50.macs);
    expect(variant("B1").cost.params.trainable).toBe(reference.models.efficientnet_b1.params);
  });
});

describe("cost invariants", () => {
  it("stage and layer sums equal the totals; memory is consistent", () => {
    for (const v of efficientnet.variants) {
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(sum(v.cost.stages.map((s) => s.macs))).toBe(v.cost.macs);
      expect(sum(v.cost.layers.map((l) => l.params.total))).toBe(v.cost.params.total);
      expect(v.cost.memory.paramBytes).toBe(4 * v.cost.params.total);
      expect(v.cost.memory.activationBytesPeak).toBeLessThanOrEqual(v.cost.memory.activationBytesTotal);
      expect(v.cost.memory.activationBytesPeak).toBeGreaterThanOrEqual(
        Math.max(...v.cost.layers.map((l) => l.outputBytes)),
      );
    }
  });
});
