import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { format } from "prettier";
import { classifierLayers, emitModule, LAYER_EMITTERS, type Dialect } from "../../src/codegen/emit.ts";
import { COST_RULES, cost } from "../../src/cost/cost.ts";
import { LayerBuilder } from "../../src/ir/builder.ts";
import { elements, type NetworkIR } from "../../src/ir/ir.ts";
import { loadModel, saveModel } from "../../src/runtime/io.ts";
import type { GeneratedModelModule } from "../../src/runtime/module.ts";
import { PRETTIER_OPTIONS, shippedVariants } from "./shipped.ts";

/** The IR's convention record for hand-built test networks (the builder's default padding rule is Keras's). */
const KERAS_CONVENTION: NetworkIR["convention"] = {
  name: "keras",
  padding: "keras",
  preprocessing: "none",
  classifierActivation: "softmax",
};

/**
 * The emitter on hand-built IRs (through the IR's own LayerBuilder, as operators build
 * them): names from a spec cannot inject code, tfjs gaps are filled by registered custom
 * layers, and buildModel's options change only what they say.
 */

// Emitted modules import "@tensorflow/tfjs", so they must live where node_modules resolves it.
const MODULE_DIR = new URL("../../node_modules/.cache/effnet/test-emit/", import.meta.url).pathname;
let counter = 0;

async function importEmitted(
  ir: NetworkIR,
  dialect: Dialect = "ts",
): Promise<GeneratedModelModule & { source: string }> {
  const source = emitModule(
    ir,
    cost(ir),
    {
      source: "test.effnet",
      command: ["npx", "effnet", "compile", "test.effnet"],
      coefficients: { width: 1, depth: 1, resolution: ir.inputShape[0] },
    },
    dialect,
  );
  mkdirSync(MODULE_DIR, { recursive: true });
  const path = join(MODULE_DIR, `m${process.pid}_${counter++}.${dialect === "ts" ? "ts" : "mjs"}`);
  writeFileSync(path, source);
  return { ...((await import(/* @vite-ignore */ `file://${path}`)) as GeneratedModelModule), source };
}

beforeAll(async () => {
  await tf.setBackend("wasm");
  tf.enableProdMode();
});

afterAll(() => rmSync(MODULE_DIR, { recursive: true, force: true }));

describe("emitter", () => {
  it("has one entry per IR layer kind, the same kinds the cost table covers", () => {
    expect(Object.keys(LAYER_EMITTERS).sort()).toEqual(Object.keys(COST_RULES).sort());
  });

  it("no name or string from a spec can inject code", async () => {
    const payloads = [
      `a"); globalThis.__effnetInjected = "string"; ("`,
      "`${(globalThis.__effnetInjected = 'template')}`",
      "*/ globalThis.__effnetInjected = 'comment'; /*",
      "x\u2028globalThis.__effnetInjected = 'line separator'; //",
      "x\nglobalThis.__effnetInjected = 'newline'; //",
      "\\\"); globalThis.__effnetInjected = 'backslash'; //",
    ];
    const b = new LayerBuilder();
    const input = b.input("input", [8, 8, 3]);
    const stem = b.conv2d("stem_conv", input, { filters: 4, kernel: 3, strides: 2 });
    let x = stem;
    for (const name of payloads) x = b.activation(name, x, "relu");
    x = b.addTensors(`add"]); globalThis.__effnetInjected = 'merge'; //`, x, stem);
    x = b.globalAvgPool("avg_pool", x);
    x = b.dense("predictions", x, { units: 2, activation: "softmax" });
    const ir: NetworkIR = {
      network: "Net*/ globalThis.__effnetInjected = 'network'; /*",
      variant: "V\n`${globalThis.__effnetInjected = 'variant'}`",
      inputShape: [8, 8, 3],
      classes: 2,
      convention: KERAS_CONVENTION,
      layers: b.layers,
      output: x.name,
    };

    // The module parses and evaluates; the payloads are data.
    const module = await importEmitted(ir);
    expect(module.metadata.network).toBe(ir.network);
    expect(module.metadata.variant).toBe(ir.variant);
    // tfjs itself refuses such layer names (its tensor-name check), which the semantics' NAME_PATTERN never lets through.
    expect(() => module.buildModel()).toThrow(/Not a valid tensor name/);
    expect((globalThis as { __effnetInjected?: unknown }).__effnetInjected).toBeUndefined();
    // The header's comments stay comments: three `//` lines, then the import.
    expect(
      module.source
        .split("\n")
        .slice(0, 4)
        .map((line) => line.slice(0, 2)),
    ).toEqual(["//", "//", "//", "im"]);
  });

  it("layer names that clash with the module's identifiers or reserved words build with their names intact", async () => {
    const names = ["tf", "buildModel", "classes", "height", "options", "class", "await", "0digit", "a-b.c/d"];
    const b = new LayerBuilder();
    const input = b.input("input", [8, 8, 3]);
    let x = b.conv2d("stem_conv", input, { filters: 4, kernel: 3, strides: 2 });
    for (const name of names) x = b.activation(name, x, "relu");
    x = b.globalAvgPool("avg_pool", x);
    x = b.dense("predictions", x, { units: 2, activation: "softmax" });
    const ir: NetworkIR = {
      network: "Clash",
      variant: "A",
      inputShape: [8, 8, 3],
      classes: 2,
      convention: KERAS_CONVENTION,
      layers: b.layers,
      output: x.name,
    };
    const model = (await importEmitted(ir)).buildModel();
    expect(model.layers.map((l) => l.name).sort()).toEqual(ir.layers.map((l) => l.name).sort());
    expect(model.countParams()).toBe(cost(ir).params.total);
    model.dispose();
  });

  it("global pooling with keepDims is a registered custom layer that survives save and load", async () => {
    const b = new LayerBuilder();
    let x = b.input("input", [6, 6, 3]);
    x = b.conv2d("conv", x, { filters: 4, kernel: 3, useBias: true });
    x = b.globalAvgPool("pool_keep", x, true);
    x = b.conv2d("head_conv", x, { filters: 3, kernel: 1, useBias: true });
    x = b.reshape("flatten", x, [3]);
    x = b.dense("predictions", x, { units: 3, activation: "softmax" });
    const ir: NetworkIR = {
      network: "KeepDims",
      variant: "A",
      inputShape: [6, 6, 3],
      classes: 3,
      convention: KERAS_CONVENTION,
      layers: b.layers,
      output: x.name,
    };
    const { buildModel, source } = await importEmitted(ir);
    const model = buildModel();
    expect(model.getLayer("pool_keep").outputShape).toEqual([null, 1, 1, 4]);
    // The helper class is laid out as prettier would (test/codegen/prettier.test.ts), in both dialects,
    // and the JavaScript one runs under plain Node's rules (an .mjs file) with the same parameters.
    const js = await importEmitted(ir, "js");
    expect(await format(source, PRETTIER_OPTIONS)).toBe(source);
    expect(await format(js.source, PRETTIER_OPTIONS)).toBe(js.source);
    expect(js.buildModel().countParams()).toBe(cost(ir).params.total);
    expect(model.countParams()).toBe(cost(ir).params.total);

    const dir = mkdtempSync(join(tmpdir(), "effnet-keepdims-"));
    try {
      const input = tf.randomUniform([2, 6, 6, 3]);
      const before = model.predict(input) as tf.Tensor;
      await saveModel(model, dir);
      const { model: loaded } = await loadModel(dir);
      const after = loaded.predict(input) as tf.Tensor;
      expect(Array.from(await after.data())).toEqual(Array.from(await before.data()));
      tf.dispose([input, before, after]);
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });
});

describe("buildModel options (EfficientNet B0's checked-in module)", () => {
  const b0 = shippedVariants().find((v) => v.modulePath === "generated/efficientnet/b0.ts")!;
  const { ir, cost: b0Cost } = b0.compiled;
  const top = classifierLayers(ir).top;
  const params = (names: readonly string[]) =>
    ir.layers
      .filter((l) => names.includes(l.name))
      .reduce((n, l) => n + l.weights.reduce((m, w) => m + elements(w.shape), 0), 0);

  it("finds Keras's classifier: avg_pool, top_dropout, predictions", () => {
    expect(top.map((l) => l.name)).toEqual(["avg_pool", "top_dropout", "predictions"]);
  });

  it("includeTop: false ends at the last feature map and drops only the classifier's parameters", async () => {
    const { buildModel } = await b0.load();
    const model = buildModel({ includeTop: false });
    const features = ir.layers.find((l) => l.name === classifierLayers(ir).features)!;
    expect(model.outputs[0].shape).toEqual([null, ...features.outputShape]);
    expect(model.countParams()).toBe(b0Cost.params.total - params(top.map((l) => l.name)));
    model.dispose();
  });

  it("classes changes only the predictions layer; resolution only the input; dropout only top_dropout", async () => {
    const { buildModel } = await b0.load();
    const model = buildModel({ classes: 7, resolution: 96, dropout: 0.5 });
    const [pooled] = ir.layers.find((l) => l.name === "avg_pool")!.outputShape;
    expect(model.outputs[0].shape).toEqual([null, 7]);
    expect(model.countParams()).toBe(b0Cost.params.total - params(["predictions"]) + (pooled * 7 + 7));
    expect(model.inputs[0].shape).toEqual([null, 96, 96, 3]);
    expect(model.getLayer("top_dropout").getConfig().rate).toBe(0.5);
    // Drop connect keeps its per-block rate and Keras's per-example noise shape.
    const drop = ir.layers.find((l) => l.kind === "dropout" && l.attrs.perSample)!;
    expect(model.getLayer(drop.name).getConfig()).toMatchObject({
      rate: drop.kind === "dropout" ? drop.attrs.rate : NaN,
      noiseShape: [null, 1, 1, 1],
    });
    model.dispose();
    expect(() => buildModel({ classes: 0 })).toThrow(RangeError);
    expect(() => buildModel({ dropout: 1 })).toThrow(RangeError);
  });
});
