import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";
const source = (text: string, path = "construct.effnet") => ({ path, text });
import { selectBackend } from "../src/runtime/backend.ts";
import { importVariantModule } from "../src/codegen/import-module.ts";
import "../src/runtime/layers.ts";
import { diffVariants } from "../src/report/diff.ts";
import { parse } from "../src/syntax/parse.ts";
import { print } from "../src/syntax/print.ts";
import { seedWeights } from "./helpers/small-net.ts";

/**
 * Issue 9's constructs, each all the way through on a small network: the audit, `fmt`'s
 * round trip, the generated module (countParams = the audit), a forward pass, a training
 * step on wasm whose gradients equal tfjs-cpu's, and save → load → the same predictions.
 */
const net = (name: string, settings: string, rows: string) => `network ${name} {
  input 32x32x3
  classes 5
  ${settings}
  convention torchvision
  stages {
    | Operator | Resolution | Channels | Layers |
${rows}
  }
}
`;

/** A stage table of Bottlenecks with a stage left out, and a variant that overrides it to BasicBlocks with that stage in. */
const OVERRIDDEN = `network OverrideNet {
  input 32x32x3
  classes 5
  activation relu
  convention torchvision
  stages {
    | Operator         | Resolution | Channels | Layers |
    | Conv3x3          | 32x32      | 16       | 1      |
    | Bottleneck, k3x3 | 16x16      | 32       | 1      |
    | Bottleneck, k3x3 | 8x8        | 64       | 0      |
    | Pooling & FC     | 8x8        | 32       | 1      |
  }
  variants {
    | Name  |
    | Basic |
    | Base  |
  }
  overrides {
    | Variant | Stages | Operator         | Channels | Layers |
    | Basic   | 2, 3   | BasicBlock, k3x3 | 16, 32   | 2, 1   |
  }
}
`;

export const CONSTRUCTS: Record<string, string> = {
  hardswish: net(
    "HardSwishNet",
    "activation hardswish\n  squeeze_excite 0.25 of expanded divisor 8 activation relu gate hardsigmoid",
    `    | Conv3x3                | 32x32 | 16 | 1 |
    | MBConv4, k3x3          | 16x16 | 24 | 2 |
    | Conv1x1 & Pooling & FC | 8x8   | 48 | 1 |`,
  ),
  // MobileNetV3's parts: expanded widths as printed, SE per row, a hidden dense layer in the head.
  mobilenetv3: net(
    "V3Net",
    "activation hardswish\n  squeeze_excite 0 of expanded divisor 8 activation relu gate hardsigmoid",
    `    | Conv3x3                        | 32x32 | -  | 16 | 1 | -    | hardswish |
    | MBConv, k3x3                   | 16x16 | 16 | 16 | 1 | 0.25 | relu      |
    | MBConv, k5x5                   | 16x16 | 72 | 24 | 2 | -    | hardswish |
    | Conv1x1 & Pooling & FC 64 & FC | 8x8   | -  | 48 | 1 | -    | hardswish |`,
  ).replace("| Channels | Layers |", "| Expanded | Channels | Layers | SE | Activation |"),
  basicblock: net(
    "BasicNet",
    "activation relu",
    `    | Conv3x3          | 32x32 | 16 | 1 |
    | BasicBlock, k3x3 | 32x32 | 16 | 2 |
    | BasicBlock, k3x3 | 32x32 | 32 | 2 |
    | Pooling & FC     | 16x16 | 32 | 1 |`,
  ),
  grouped: net(
    "GroupedNet",
    "activation relu",
    `    | Conv3x3          | 32x32 | 16 | 1 | 1  |
    | Conv3x3          | 16x16 | 32 | 1 | 4  |
    | Bottleneck, k3x3 | 16x16 | 64 | 2 | 8  |
    | Pooling & FC     | 8x8   | 64 | 1 | -  |`,
  ).replace("| Layers |", "| Layers | Groups |"),
  // Per-variant stage overrides: the first variant's own table (BasicBlocks, and stage 3,
  // which the stage table leaves out at 0 layers) built and trained as any other.
  overrides: OVERRIDDEN,
};

beforeAll(async () => {
  // effnet's wasm backend: tfjs's plus the gradient kernels it lacks (src/runtime/kernels).
  expect((await selectBackend("wasm")).name).toBe("wasm");
});

/** Gradients of a cross-entropy loss over every trainable weight, on the current backend. */
function gradients(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor): Map<string, Float32Array> {
  const { grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
  );
  const out = new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
  tf.dispose(Object.values(grads));
  return out;
}

describe.each(Object.entries(CONSTRUCTS))("%s", (_, text) => {
  const compilation = compile(source(text, "construct.effnet"));

  it("compiles, and fmt prints it back unchanged", () => {
    expect(compilation.diagnostics).toEqual([]);
    const once = print(parse(source(text)).document);
    expect(print(parse(source(once)).document)).toBe(once);
    expect(compile(source(once)).variants[0].cost.params).toEqual(compilation.variants[0].cost.params);
  });

  it("builds with countParams() = the audit, trains on wasm as on cpu, and saves and loads", async () => {
    const [compiled] = compilation.variants;
    const { buildModel } = await importVariantModule(compiled, "construct.effnet");
    const model = buildModel();
    try {
      expect(model.countParams()).toBe(compiled.cost.params.total);
      seedWeights(model, 9);
      const x = tf.randomUniform([2, 32, 32, 3], 0, 255, "float32", 9);
      const labels = tf.oneHot([1, 3], 5);
      const wasm = gradients(model, x, labels);
      await tf.setBackend("cpu");
      const cpu = gradients(model, x, labels);
      await tf.setBackend("wasm");
      expect([...wasm.keys()]).toEqual([...cpu.keys()]);
      // Per weight, relative to its own largest gradient; gradients that nearly cancel (a
      // BN's β feeding a training-mode BN) are held to the model's gradient scale instead.
      const largest = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const modelScale = Math.max(...[...cpu.values()].map(largest));
      for (const [name, g] of wasm) {
        const c = cpu.get(name)!;
        const worst = largest(g.map((v, i) => v - c[i]));
        expect(worst / Math.max(largest(c), 1e-2 * modelScale), name).toBeLessThan(1e-3);
      }
      // A training step on wasm moves the loss.
      model.compile({ optimizer: tf.train.sgd(0.01), loss: "categoricalCrossentropy" });
      const before = model.predict(x) as tf.Tensor;
      await model.trainOnBatch(x, labels);
      const after = model.predict(x) as tf.Tensor;
      expect(tf.sub(before, after).abs().max().dataSync()[0]).toBeGreaterThan(0);
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          artifacts = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
        }),
      );
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(after.dataSync()));
      expect(loaded.countParams()).toBe(model.countParams());
      loaded.dispose();
      tf.dispose([x, labels, before, after]);
    } finally {
      model.dispose();
    }
  }, 60_000);
});

describe("depth scaling and variant names", () => {
  const spec = (scaling: string) => `network Dots {
  input 32x32x3
  classes 5
  activation relu
  convention torchvision
  stages {
    | Operator         | Resolution | Channels | Layers |
    | Conv3x3          | 32x32      | 16       | 1      |
    | MaxPool3x3       | 16x16      | 16       | 1      |
    | BasicBlock, k3x3 | 8x8        | 16       | 2      |
    | Pooling & FC     | 8x8        | 16       | 1      |
  }
  scaling {
    ${scaling}
  }
  variants {
    | Name    | Width | Depth | Resolution |
    | net_1.0 | 1.0   | 1.0   | 32         |
    | net_2.0 | 1.0   | 2.0   | 32         |
  }
}
`;
  const layers = (text: string) =>
    compile(source(text)).variants.map((v) => [v.variant.name, v.scaled.stages.map((s) => s.layers.value)]);

  it("keeps the stem and the head fixed unless `scale stages` says otherwise; variant names hold dots", () => {
    expect(layers(spec("depth round ceil"))).toEqual([
      ["net_1.0", [1, 1, 2, 1]],
      ["net_2.0", [1, 1, 4, 1]],
    ]);
    expect(layers(spec("depth round ceil scale stages 1"))).toEqual([
      ["net_1.0", [1, 1, 2, 1]],
      ["net_2.0", [2, 1, 4, 1]],
    ]);
  });

  it("refuses two variant names that become the same file", () => {
    const clash = spec("depth round ceil").replace("| net_2.0 |", "| net_1_0 |");
    expect(compile(source(clash)).diagnostics.map((d) => d.code)).toContain("EFF2040");
  });
});

describe("diagnostics after a row that failed", () => {
  it("an unknown operator does not make the next row's channel check fail (no spurious EFF2056)", () => {
    const text = net(
      "Unknown",
      "activation relu",
      `    | Conv3x3      | 32x32 | 16 | 1 |
    | BasicBlok    | 16x16 | 32 | 1 |
    | Pooling & FC | 16x16 | 32 | 1 |`,
    );
    expect(compile(source(text)).diagnostics.map((d) => d.code)).toEqual(["EFF2021"]);
  });
});

describe("per-variant stage overrides", () => {
  /** The layers of a compiled variant as a model sees them: names, kinds, shapes and weights (not the stage numbers). */
  const layersOf = (text: string, variant?: string) => {
    const compilation = compile(source(text), variant ? { variants: [variant] } : {});
    expect(compilation.diagnostics).toEqual([]);
    const [compiled] = compilation.variants;
    return {
      layers: compiled.ir.layers.map((l) => [l.name, l.kind, l.outputShape, l.weights.map((w) => w.shape)]),
      params: compiled.cost.params,
      macs: compiled.cost.macs,
    };
  };
  const written = (rows: string) => net("OverrideNet", "activation relu", rows);

  it("a variant's overrides build the network its own table written out would", () => {
    expect(layersOf(OVERRIDDEN, "Basic")).toEqual(
      layersOf(
        written(`    | Conv3x3          | 32x32 | 16 | 1 |
    | BasicBlock, k3x3 | 16x16 | 16 | 2 |
    | BasicBlock, k3x3 | 8x8   | 32 | 1 |
    | Pooling & FC     | 8x8   | 32 | 1 |`),
      ),
    );
    // Without overrides the stage of 0 layers is left out.
    expect(layersOf(OVERRIDDEN, "Base")).toEqual(
      layersOf(
        written(`    | Conv3x3          | 32x32 | 16 | 1 |
    | Bottleneck, k3x3 | 16x16 | 32 | 1 |
    | Pooling & FC     | 8x8   | 32 | 1 |`),
      ),
    );
  });

  it("the audit says which numbers an override set; diff lines stages up by number", () => {
    const compilation = compile(source(OVERRIDDEN));
    const [basic, base] = compilation.variants;
    expect(basic.scaled.stages.map((s) => s.layers.provenance.endsWith("Basic's override"))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(base.scaled.stages.map((s) => s.stage.index)).toEqual([1, 2, 4]);
    const d = diffVariants({ source: "a", compiled: base }, { source: "b", compiled: basic });
    expect(d.stages.map((s) => [s.stage, s.layers.a, s.layers.b])).toEqual([
      [1, 1, 1],
      [2, 1, 2],
      [3, null, 1],
      [4, 1, 1],
    ]);
  });
});
