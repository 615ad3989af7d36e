import { describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";

/**
 * The operator table beyond EfficientNet: DSConv (MobileNetV1) and FusedMBConv
 * (EfficientNetV2) lower from one table entry each. Expected parameter counts are worked
 * out by hand from the layer definitions in the comments, not taken from effnet's output.
 */
function costOf(stageRows: string, input = "16x16x8") {
  const text = `network T {
  input ${input}
  classes 10
  activation relu6
  preprocessing none  # the operators alone: no input layers before stage 1
  stages {
    | Operator | Resolution | Channels | Layers |
${stageRows}
  }
}
`;
  const compilation = compile({ path: "t.effnet", text });
  expect(compilation.diagnostics).toEqual([]);
  return compilation.variants[0];
}

describe("operators", () => {
  it("DSConv: depthwise 3x3 + BN + pointwise 1x1 + BN, no biases", () => {
    // stage 1, 8 → 16 channels: dw 3·3·8 = 72, BN 4·8 = 32, pw 8·16 = 128, BN 4·16 = 64  → 296
    // head, 16 → 32: conv 16·32 = 512, BN 128, dense 32·10 + 10 = 330                   → 970
    const v = costOf("    | DSConv, k3x3 | 16x16 | 16 | 1 |\n    | Conv1x1 & Pooling & FC | 16x16 | 32 | 1 |");
    const byStage = Object.fromEntries(v.cost.stages.map((s) => [s.stage, s.params.total]));
    expect(byStage[1]).toBe(296);
    expect(byStage[2]).toBe(970);
    expect(v.ir.layers.map((l) => l.name).slice(1, 7)).toEqual([
      "block1a_dwconv",
      "block1a_dw_bn",
      "block1a_dw_activation",
      "block1a_pw_conv",
      "block1a_pw_bn",
      "block1a_pw_activation",
    ]);
  });

  it("FusedMBConv: one k×k expansion conv, a 1x1 projection, a residual when shapes allow", () => {
    // FusedMBConv4 8 → 8, stride 1: conv 3·3·8·32 = 2304, BN 128, project 32·8 = 256, BN 32 → 2720, plus an add
    const v = costOf("    | FusedMBConv4, k3x3 | 16x16 | 8 | 1 |\n    | Conv1x1 & Pooling & FC | 16x16 | 32 | 1 |");
    expect(v.cost.stages.find((s) => s.stage === 1)!.params.total).toBe(2720);
    expect(v.ir.layers.some((l) => l.name === "block1a_add")).toBe(true);
    // FusedMBConv1 8 → 16, stride 2: the k×k conv projects directly: 3·3·8·16 = 1152, BN 64 → 1216, no residual
    const w = costOf("    | FusedMBConv1, k3x3 | 16x16 | 16 | 1 |\n    | Conv1x1 & Pooling & FC | 8x8 | 32 | 1 |");
    expect(w.cost.stages.find((s) => s.stage === 1)!.params.total).toBe(1216);
    expect(w.ir.layers.some((l) => l.kind === "add")).toBe(false);
    expect(w.ir.layers.find((l) => l.name === "block1a_project_conv")!.outputShape).toEqual([8, 8, 16]);
  });

  it("Bottleneck: 1x1 reduce, k×k, 1x1 expand, and a projection shortcut when the shape changes", () => {
    // 8 → 32 channels, inner width 32 / 4 = 8, stride 1: 1x1 8·8 = 64 + BN 32, 3x3 9·8·8 = 576 + BN 32,
    // 1x1 8·32 = 256 + BN 128, shortcut 1x1 8·32 = 256 + BN 128 → 1472
    const v = costOf("    | Bottleneck, k3x3 | 16x16 | 32 | 1 |\n    | Pooling & FC | 16x16 | 32 | 1 |");
    expect(v.cost.stages.find((s) => s.stage === 1)!.params.total).toBe(1472);
    expect(v.ir.layers.filter((l) => l.name.startsWith("block1a_")).map((l) => l.name.slice(8))).toEqual([
      "1_conv",
      "1_bn",
      "1_activation",
      "2_conv",
      "2_bn",
      "2_activation",
      "3_conv",
      "3_bn",
      "0_conv",
      "0_bn",
      "add",
      "out",
    ]);
    // Classifier without a head conv: pooling and a dense layer, 32·10 + 10 = 330.
    expect(v.cost.stages.find((s) => s.stage === 2)!.params.total).toBe(330);
  });

  it("MaxPool keeps its input's channels, and says so when a spec disagrees", () => {
    const ok = costOf(
      "    | Conv3x3 | 16x16 | 8 | 1 |\n    | MaxPool3x3 | 8x8 | 8 | 1 |\n    | Pooling & FC | 4x4 | 8 | 1 |",
    );
    expect(ok.ir.layers.map((l) => l.name)).toContain("stem2_pool");
    expect(ok.scaled.stages[1].channels.provenance).toBe("8 (stage 1's: MaxPool keeps its input's channels)");
    const bad = compile({
      path: "t.effnet",
      text: "network T {\n  input 16x16x3\n  classes 10\n  stages {\n    | Operator | Resolution | Channels | Layers |\n    | Conv3x3 | 16x16 | 8 | 1 |\n    | MaxPool3x3 | 8x8 | 16 | 1 |\n    | Pooling & FC | 4x4 | 16 | 1 |\n  }\n}\n",
    });
    expect(bad.diagnostics.map((d) => d.code)).toEqual(["EFF2056"]);
    expect(bad.diagnostics[0].message).toBe("`MaxPool3x3` keeps its input's channels: this stage has 8, not 16");
  });

  it("MBConv MACs follow the per-layer formulas", () => {
    // MBConv6 k3, 8 → 8 at 16×16, SE off (relu6 spec sets none): expand 16·16·8·48, dw 16·16·48·9, project 16·16·48·8
    const v = costOf("    | MBConv6, k3x3 | 16x16 | 8 | 1 |\n    | Conv1x1 & Pooling & FC | 16x16 | 32 | 1 |");
    expect(v.cost.stages.find((s) => s.stage === 1)!.macs).toBe(16 * 16 * 8 * 48 + 16 * 16 * 48 * 9 + 16 * 16 * 48 * 8);
  });
});
