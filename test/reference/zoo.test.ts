import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { irWeights, referenceNames } from "../../src/weights/naming.ts";

/**
 * Shipped specs that mirror a torchvision model, against that model's own figures:
 * trainable parameters, BN running statistics (running_mean + running_var) and
 * multiply-adds counted the standard way (Conv: kh·kw·(cin/groups)·cout·Hout·Wout;
 * Linear: in·out) at the reference's resolution (224×224; EfficientNetV2-S 384×384, -M and -L 480×480), computed from torchvision 0.14 with weights=None by
 * scripts/reference/torchvision_figures.py, whose output is checked in beside this test.
 * Also networks torchvision's classes build with other arguments: EfficientNet-B8 and -L2 of
 * TF's params table (its EfficientNet class at their width and depth, 672 and 800 px), and
 * Table 3's scaled MobileNetV2 and ResNet-50 (Tan & Le 2019; the compound rows' coefficients
 * are the specs' stated assumption, so these hold the networks, not the paper's rounding).
 * Exact equality: a count either follows the reference's rules or it does not.
 */
const REFERENCE = JSON.parse(readFileSync(new URL("torchvision_figures.json", import.meta.url), "utf8")) as {
  models: Record<
    string,
    {
      trainable: number;
      bnStatistics: number;
      macs: number;
      resolution: number;
      stateDict?: Record<string, number[]>;
    }
  >;
};

/** A shipped variant's own figures, as the references give theirs (its non-trainable parameters are BN statistics). */
function shippedFigures(spec: string, variant: string) {
  const text = readFileSync(new URL(`../../${spec}`, import.meta.url), "utf8");
  const compilation = compile({ path: spec, text }, { variants: [variant] });
  expect(compilation.diagnostics).toEqual([]);
  const [compiled] = compilation.variants;
  return {
    inputSize: compiled.ir.inputShape.slice(0, 2),
    trainable: compiled.cost.params.trainable,
    bnStatistics: compiled.cost.params.nonTrainable,
    macs: compiled.cost.macs,
  };
}

/** A reference's figures in those terms. */
const referenceFigures = (r: { resolution: number; trainable: number; bnStatistics: number; macs: number }) => ({
  inputSize: [r.resolution, r.resolution],
  trainable: r.trainable,
  bnStatistics: r.bnStatistics,
  macs: r.macs,
});

/** Spec file, its variant, and the torchvision builder it mirrors. */
const MIRRORS = [
  { spec: "specs/resnet.effnet", variant: "R18", model: "resnet18" },
  { spec: "specs/resnet.effnet", variant: "R34", model: "resnet34" },
  { spec: "specs/resnet.effnet", variant: "R50", model: "resnet50" },
  { spec: "specs/resnet.effnet", variant: "R101", model: "resnet101" },
  { spec: "specs/resnet.effnet", variant: "R152", model: "resnet152" },
  { spec: "specs/resnet50.effnet", variant: "R50", model: "resnet50" },
  { spec: "specs/resnet152.effnet", variant: "R152", model: "resnet152" },
  { spec: "specs/wideresnet50.effnet", variant: "WR50", model: "wide_resnet50_2" },
  { spec: "specs/resnext50.effnet", variant: "X50", model: "resnext50_32x4d" },
  { spec: "specs/mobilenetv3.effnet", variant: "Large", model: "mobilenet_v3_large" },
  { spec: "specs/mobilenetv3.effnet", variant: "Large_0.75", model: "mobilenet_v3_large_w0.75" },
  { spec: "specs/mobilenetv3small.effnet", variant: "Small", model: "mobilenet_v3_small" },
  { spec: "specs/mobilenetv3small.effnet", variant: "Small_0.75", model: "mobilenet_v3_small_w0.75" },
  { spec: "specs/efficientnetv2.effnet", variant: "S", model: "efficientnet_v2_s" },
  { spec: "specs/efficientnetv2.effnet", variant: "M", model: "efficientnet_v2_m" },
  { spec: "specs/efficientnetv2.effnet", variant: "L", model: "efficientnet_v2_l" },
  { spec: "specs/mnasnet.effnet", variant: "M1", model: "mnasnet1_0" },
  { spec: "specs/mobilenetv2.effnet", variant: "W050", model: "mobilenet_v2_w0.5" },
  { spec: "specs/mobilenetv2.effnet", variant: "W075", model: "mobilenet_v2_w0.75" },
  { spec: "specs/mobilenetv2.effnet", variant: "V2", model: "mobilenet_v2" },
  { spec: "specs/mobilenetv2.effnet", variant: "W140", model: "mobilenet_v2_w1.4" },
  { spec: "specs/efficientnetb8l2.effnet", variant: "B8", model: "efficientnet_b8_tf" },
  { spec: "specs/efficientnetb8l2.effnet", variant: "L2", model: "efficientnet_l2_tf" },
  // Tan & Le 2019, Table 3's rows: d = 4, w = 2, r = 2 alone, and compound.
  ...(
    [
      ["D4", "t3_d4"],
      ["W2", "t3_w2"],
      ["R2", "t3_r2"],
      ["T3_compound", "t3_compound"],
    ] as const
  ).flatMap(([variant, row]) => [
    { spec: "specs/mobilenetv2.effnet", variant, model: `mobilenet_v2_${row}` },
    { spec: "specs/resnet50.effnet", variant, model: `resnet50_${row}` },
  ]),
  ...(["400MF", "800MF", "1_6GF", "3_2GF", "8GF", "16GF", "32GF"] as const).map((size) => ({
    spec: "specs/regnetx.effnet",
    variant: `X${size}`,
    model: `regnet_x_${size.toLowerCase()}`,
  })),
  ...(["400MF", "800MF", "1_6GF", "3_2GF", "8GF", "16GF", "32GF", "128GF"] as const).map((size) => ({
    spec: "specs/regnety.effnet",
    variant: `Y${size}`,
    model: `regnet_y_${size.toLowerCase()}`,
  })),
] as const;

describe("shipped specs against torchvision's models", () => {
  it.each(MIRRORS)("$spec $variant = torchvision $model", ({ spec, variant, model }) => {
    expect(shippedFigures(spec, variant)).toEqual(referenceFigures(REFERENCE.models[model]));
  });
});

// TF's B8 and L2 have no torchvision weights; timm's ports of TF's do, and its ImageNet results
// tables publish their parameter counts (tf_efficientnet_b8 87.4M, tf_efficientnet_l2 480.3M).
// torchvision's network at their width and depth has them to the printed digits (0.1 M).
describe("TF's EfficientNet-B8 and -L2 against timm's published parameter counts", () => {
  it.each([
    { model: "efficientnet_b8_tf", params: 87.4 },
    { model: "efficientnet_l2_tf", params: 480.3 },
  ])("torchvision's $model has $params M parameters", ({ model, params }) => {
    expect(Math.round(REFERENCE.models[model].trainable / 1e5) / 10).toBe(params);
  });
});

// The classifier's hidden dense layer under width scaling: torchvision's mobilenetv3.py scales
// it (last_channel = adjust_channels(1280), the torchvision preset's rule: its stateDict's
// classifier.0 is checked above); Keras's mobilenet_v3.py keeps 1280 unless alpha > 1 (the
// mobilenet preset's max(1, w), as for MobileNetV2's head). Each preset's rule is its entry.
describe("a hidden dense layer scales by the rounding preset's rule", () => {
  const path = "specs/mobilenetv3.effnet";
  const text = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
  const hiddenUnits = (spec: string, variant: string) => {
    const compilation = compile({ path, text: spec }, { variants: [variant] });
    expect(compilation.diagnostics).toEqual([]);
    const dense = compilation.variants[0].ir.layers.find((l) => l.name === "top_dense")!;
    return dense.kind === "dense" ? dense.attrs.units : undefined;
  };
  const withRows = text.replace(
    /^(\s*\| Large_0\.75 .*\n)/m,
    "$1    | Large_1.25 | 1.25 | 1.0 | 224 | 0.2 | - | - |\n",
  );
  const keras = withRows.replace(/^(\s*convention torchvision.*\n)/m, "$1  rounding mobilenet\n");
  it("torchvision: _make_divisible(1280 · w, 8) at every width", () => {
    expect(withRows).not.toBe(text);
    const tv = REFERENCE.models["mobilenet_v3_large_w0.75"].stateDict!;
    expect(hiddenUnits(withRows, "Large_0.75")).toBe(tv["classifier.0.weight"][0]);
    expect(hiddenUnits(withRows, "Large_1.25")).toBe(1600);
  });
  it("mobilenet (Keras's last_point_ch): 1280 below w = 1, scaled above", () => {
    expect(keras).not.toBe(withRows);
    expect(hiddenUnits(keras, "Large_0.75")).toBe(1280);
    expect(hiddenUnits(keras, "Large_1.25")).toBe(1600);
  });
});

describe("weights are named as torchvision's state dict", () => {
  it.each(MIRRORS.filter((m) => REFERENCE.models[m.model].stateDict))(
    "$spec $variant: every tensor of torchvision $model, by name and shape",
    ({ spec, variant, model }) => {
      const text = readFileSync(new URL(`../../${spec}`, import.meta.url), "utf8");
      const [compiled] = compile({ path: spec, text }, { variants: [variant] }).variants;
      const { tensors, buffers, diagnostics } = referenceNames(
        irWeights(compiled.ir),
        "torchvision",
        compiled.ir.network,
      );
      expect(diagnostics).toEqual([]);
      const ours = Object.fromEntries([
        ...tensors.map((t) => [t.key, [...t.referenceShape]]),
        ...buffers.map((b) => [b.key, []]),
      ]);
      expect(ours).toEqual(REFERENCE.models[model].stateDict);
    },
  );
});

/**
 * Keras's MobileNet (v1), which torchvision does not have: its network rebuilt in torch by
 * the rules of keras/src/applications/mobilenet.py (scripts/reference/keras_mobilenet_figures.py,
 * output checked in beside this test), for every α and resolution Keras has weights for.
 */
type KerasFigures = { alpha: number; resolution: number; trainable: number; nonTrainable: number; macs: number };
const KERAS_MOBILENET = JSON.parse(readFileSync(new URL("keras_mobilenet_figures.json", import.meta.url), "utf8")) as {
  models: Record<string, KerasFigures>;
  oddResolutions: Record<string, KerasFigures>;
  table3Compound: KerasFigures & { depth: number };
};
const MOBILENET_V1 = Object.entries(KERAS_MOBILENET.models).map(([model, r]) => ({
  variant: `V1_${r.alpha === 1 ? "1.0" : r.alpha}_${r.resolution}`,
  model,
  reference: r,
}));

describe("specs/mobilenetv1.effnet against Keras's MobileNet", () => {
  it("has a variant for each of Keras's 16 models", () => {
    const text = readFileSync(new URL("../../specs/mobilenetv1.effnet", import.meta.url), "utf8");
    const { spec } = compile({ path: "specs/mobilenetv1.effnet", text }, { checkOnly: true });
    // …and Table 3's compound row (Tan & Le 2019), which Keras has no model of.
    expect(spec!.variants.map((v) => v.name).sort()).toEqual(
      [...MOBILENET_V1.map((m) => m.variant), "T3_compound"].sort(),
    );
    expect(MOBILENET_V1).toHaveLength(16);
  });

  it.each(MOBILENET_V1)("$variant = Keras $model", ({ variant, reference }) => {
    // Keras's non-trainable weights here are its BN moving statistics alone.
    expect(shippedFigures("specs/mobilenetv1.effnet", variant)).toEqual(
      referenceFigures({ ...reference, bnStatistics: reference.nonTrainable }),
    );
  });

  // Table 3's compound row (d 1.4, w 1.2, r 1.3) is no Keras model: the rebuild scales Keras's
  // network by the rules the spec states, so this holds the spec's depth scaling of the DSConv
  // stages to a network built without effnet; the paper's 2.3B is only cited (the audit's Δ).
  it("T3_compound = Keras's network at d 1.4, w 1.2, 288 px", () => {
    const reference = KERAS_MOBILENET.table3Compound;
    expect(shippedFigures("specs/mobilenetv1.effnet", "T3_compound")).toEqual(
      referenceFigures({ ...reference, bnStatistics: reference.nonTrainable }),
    );
  });

  // Keras builds MobileNet at any size; on odd ones its strided depthwise blocks' fixed
  // ((0, 1), (0, 1)) padding is not the stem's `same` (`padding keras_mobilenet`). Keras has no
  // weights there, so the spec ships no such variant: these are the spec's own rows at those sizes.
  const ODD = Object.entries(KERAS_MOBILENET.oddResolutions).map(([model, r]) => ({
    variant: `V1_${r.alpha === 1 ? "1.0" : r.alpha}_${r.resolution}`,
    model,
    reference: r,
  }));
  it.each(ODD)("$variant (odd size) = Keras $model", ({ variant, reference }) => {
    const path = "specs/mobilenetv1.effnet";
    const text = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
    const row = `    | ${variant} | ${reference.alpha} | 1.0 | ${reference.resolution} | - | - |\n`;
    const withRow = text.replace(/^(\s*\| T3_compound .*\n)/m, `$1${row}`);
    expect(withRow).not.toBe(text);
    const compilation = compile({ path, text: withRow }, { variants: [variant] });
    expect(compilation.diagnostics).toEqual([]);
    const { cost, ir } = compilation.variants[0];
    expect({
      inputSize: ir.inputShape.slice(0, 2),
      trainable: cost.params.trainable,
      bnStatistics: cost.params.nonTrainable,
      macs: cost.macs,
    }).toEqual(referenceFigures({ ...reference, bnStatistics: reference.nonTrainable }));
  });
  it("pads its strided depthwise convs as Keras's blocks and its stem as `same`, which differ on odd sizes only", () => {
    // Under the keras convention's correct_pad everywhere, the odd sizes' counts would differ
    // (the published 225 px count would be 644.6M, not Keras's 569.5M), the even ones not.
    const path = "specs/mobilenetv1.effnet";
    const text = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
    const withRow = text.replace(/^(\s*\| T3_compound .*\n)/m, `$1    | V1_1.0_225 | 1.0 | 1.0 | 225 | - | - |\n`);
    const macs = (spec: string, variant: string) =>
      compile({ path, text: spec }, { variants: [variant] }).variants[0].cost.macs;
    const sameEverywhere = withRow.replace(/^\s*padding keras_mobilenet.*\n/m, "");
    expect(sameEverywhere).not.toBe(withRow);
    expect(macs(sameEverywhere, "V1_1.0_224")).toBe(KERAS_MOBILENET.models["mobilenet_1.00_224"].macs);
    expect(macs(sameEverywhere, "V1_1.0_225")).not.toBe(KERAS_MOBILENET.oddResolutions["mobilenet_1.00_225"].macs);
  });

  // The rebuilt network against the published figures, to their printed digits: Howard et al.
  // 2017, Table 6 (width at 224 px) and Table 7 (resolution at α = 1), as Keras's mobilenet.py
  // docstring prints them (millions of multiply-adds, millions of parameters); Keras's
  // applications table gives 4.3M parameters for MobileNet (count_params(), α = 1, 224 px).
  const PUBLISHED = [
    { model: "mobilenet_1.00_224", macs: 569, params: 4.2 },
    { model: "mobilenet_0.75_224", macs: 325, params: 2.6 },
    { model: "mobilenet_0.50_224", macs: 149, params: 1.3 },
    { model: "mobilenet_0.25_224", macs: 41, params: 0.5 },
    { model: "mobilenet_1.00_192", macs: 418, params: 4.2 },
    { model: "mobilenet_1.00_160", macs: 290, params: 4.2 },
    { model: "mobilenet_1.00_128", macs: 186, params: 4.2 },
  ];
  it.each(PUBLISHED)("the rebuilt $model has the published $macs M MACs and $params M parameters", (p) => {
    const r = KERAS_MOBILENET.models[p.model];
    // Printed as whole millions of MACs (rounded or cut), and parameters to 0.1 M.
    expect(Math.abs(r.macs / 1e6 - p.macs)).toBeLessThan(1);
    expect(Math.abs(r.trainable / 1e6 - p.params)).toBeLessThanOrEqual(0.05);
  });
  it("the rebuilt α = 1 model has Keras's 4.3M parameters in all", () => {
    const r = KERAS_MOBILENET.models["mobilenet_1.00_224"];
    expect(Math.round((r.trainable + r.nonTrainable) / 1e5) / 10).toBe(4.3);
  });
});

/**
 * EfficientNet-lite0..4, which neither torchvision nor Keras has: the network of TF's
 * efficientnet/lite/efficientnet_lite_builder.py rebuilt in torch by its rules
 * (scripts/reference/efficientnet_lite_figures.py, output checked in beside this test).
 */
const LITE = JSON.parse(readFileSync(new URL("efficientnet_lite_figures.json", import.meta.url), "utf8")) as {
  models: Record<string, { resolution: number; trainable: number; bnStatistics: number; macs: number }>;
};
const LITE_VARIANTS = Object.entries(LITE.models).map(([model, reference]) => ({
  variant: model.replace("efficientnet-", ""),
  model,
  reference,
}));

describe("specs/efficientnetlite.effnet against TF's EfficientNet-lite", () => {
  const path = "specs/efficientnetlite.effnet";
  const text = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

  it("has a variant for each of the lite builder's 5 models", () => {
    const { spec } = compile({ path, text }, { checkOnly: true });
    expect(spec!.variants.map((v) => v.name)).toEqual(LITE_VARIANTS.map((m) => m.variant));
    expect(LITE_VARIANTS).toHaveLength(5);
  });

  it.each(LITE_VARIANTS)("$variant = TF $model", ({ variant, reference }) => {
    expect(shippedFigures(path, variant)).toEqual(referenceFigures(reference));
  });

  it("feeds the network (x − 127) / 128, the lite builder's MEAN_RGB 127 and STDDEV_RGB 128", () => {
    const [compiled] = compile({ path, text }, { variants: ["lite0"] }).variants;
    const layer = (kind: string): unknown => compiled.ir.layers.find((l) => l.kind === kind)!.attrs;
    const { scale, offset } = layer("rescaling") as { scale: number; offset: number };
    const { mean, std, stored } = layer("normalization") as { mean: number[]; std: number[]; stored: boolean };
    expect(stored).toBe(false);
    for (const pixel of [0, 127, 128, 255])
      for (const c of [0, 1, 2])
        expect((pixel * scale + offset - mean[c]) / std[c]).toBeCloseTo((pixel - 127) / 128, 12);
  });

  // The rebuilt networks against the lite README's table (tensorflow/tpu
  // models/official/efficientnet/lite/README.md: "params" 4.7M, 5.4M, 6.1M, 8.2M, 13.0M), to
  // their printed digits (0.1 M). Its MAdds (407M … 2.64B) are 3–5 % above the standard count
  // of the same network and are only cited (the spec's Paper MACs; the audit shows the Δ).
  const PUBLISHED = [
    { model: "efficientnet-lite0", params: 4.7 },
    { model: "efficientnet-lite1", params: 5.4 },
    { model: "efficientnet-lite2", params: 6.1 },
    { model: "efficientnet-lite3", params: 8.2 },
    { model: "efficientnet-lite4", params: 13.0 },
  ];
  it.each(PUBLISHED)("the rebuilt $model has the published $params M parameters", (p) => {
    expect(Math.round(LITE.models[p.model].trainable / 1e5) / 10).toBe(p.params);
  });
});
