import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { NetworkIR, Shape } from "../ir/ir.ts";

/**
 * Reference state-dict names of effnet's weights. effnet's layers carry Keras's names
 * (`stem_conv`, `block2a_expand_conv`, `top_bn`, `predictions`); a reference names the
 * same tensors after its own module tree (`features.2.0.block.0.0.weight`). The name of
 * each tensor follows from a rule over effnet's layer names, applied to the layers in
 * model order, plus one table per reference: how that reference nests its stem, blocks,
 * head and classifier, and what it calls each of a block's layers. Nothing here lists a
 * network's tensors, so every variant (and any spec whose blocks the table covers) is named.
 */

/** One effnet weight, as the IR or a saved model lists it (layers in model order). */
export interface EffnetWeight {
  readonly layer: string;
  /** Keras's weight name: kernel, bias, depthwise_kernel, gamma, beta, moving_mean, moving_variance. */
  readonly weight: string;
  readonly shape: Shape;
}

/** How a tensor's axes are stored: effnet (Keras/tfjs) and the reference order them differently. */
export interface Layout {
  /** The reference's axis order as a permutation of effnet's axes. */
  readonly toReference: readonly number[];
}

/**
 * tfjs and Keras store a conv kernel as [k, k, in, out] (HWIO), PyTorch as [out, in, k, k]
 * (OIHW); a depthwise kernel as [k, k, C, 1] against PyTorch's grouped [C, 1, k, k]; a
 * dense kernel as [in, out] against nn.Linear's [out, in]. Vectors are the same.
 */
export const LAYOUTS = {
  convKernel: { toReference: [3, 2, 0, 1] },
  depthwiseKernel: { toReference: [2, 3, 0, 1] },
  denseKernel: { toReference: [1, 0] },
  vector: { toReference: [0] },
} as const satisfies Record<string, Layout>;

export type LayoutName = keyof typeof LAYOUTS;

export const permuteShape = (shape: Shape, perm: readonly number[]): number[] => perm.map((axis) => shape[axis]);

/** Row-major data of `shape` with its axes reordered by `perm` (out axis i = in axis perm[i]); exact (a copy). */
export function permute(data: Float32Array, shape: Shape, perm: readonly number[]): Float32Array {
  if (perm.every((p, i) => p === i)) return data.slice();
  const outShape = permuteShape(shape, perm);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const strides = perm.map((axis) => inStrides[axis]);
  const out = new Float32Array(data.length);
  const index = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let d = 0; d < index.length; d++) source += index[d] * strides[d];
    out[o] = data[source];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < outShape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

export const inversePermutation = (perm: readonly number[]): number[] => {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
};

/** A reference tensor and the effnet weight it is. */
export interface NamedTensor extends EffnetWeight {
  readonly key: string;
  readonly layout: LayoutName;
  readonly referenceShape: readonly number[];
}

/** Where one of a block's layers sits in the reference's block: its unit, and its path within the unit. */
interface UnitPart {
  readonly unit: string;
  /** Path inside the unit (`0` conv, `1` BN of a Conv2dNormActivation; `fc1`), or null: the unit is this layer. */
  readonly part: string | null;
}

/** How one reference model class nests its modules. */
interface ModelFamily {
  readonly summary: string;
  /** A layer-name suffix only this family's blocks have, or a layer name only its head has, to recognise it (checked in table order); the family without marker nor network is the default. */
  readonly marker?: string;
  /**
   * The spec's network names that pick this family before any marker (lower case), for a
   * reference whose blocks have the same layers as another family's (MnasNet's and
   * MobileNetV2's inverted residuals, RegNet's and ResNeXt's grouped bottlenecks); a saved
   * model's name is `network_variant`.
   */
  readonly networks?: readonly string[];
  readonly stem: Readonly<Record<string, string>>;
  /** The block's module path from its block-stage number (1-based), its index in the stage and among all blocks. */
  readonly block: (stage: number, index: number, global: number) => string;
  /** positional: units are numbered in the order they appear (an nn.Sequential); named: units are attribute names. */
  readonly units: "positional" | "named";
  readonly parts: Readonly<Record<string, UnitPart>>;
  /** The head's layers, from the number of block stages and of blocks. */
  readonly head: (stages: number, blocks: number) => Readonly<Record<string, string>>;
}

/** Conv2dNormActivation (torchvision ops/misc.py): an nn.Sequential of conv `0`, norm `1`, activation. */
const cna = (unit: string): [UnitPart, UnitPart] => [
  { unit, part: "0" },
  { unit, part: "1" },
];

const [expandConv, expandBn] = cna("expand");
const [dwConv, dwBn] = cna("depthwise");
/** The expand and depthwise units every torchvision inverted residual (MobileNetV2/V3, EfficientNet's MBConv) starts with. */
const INVERTED_RESIDUAL = { expand_conv: expandConv, expand_bn: expandBn, dwconv: dwConv, bn: dwBn } as const;
/** torchvision's MBConv and MobileNetV3 InvertedResidual: the same, then SqueezeExcitation (fc1, fc2) and the project unit. */
const INVERTED_RESIDUAL_SE = {
  ...INVERTED_RESIDUAL,
  se_reduce: { unit: "se", part: "fc1" },
  se_expand: { unit: "se", part: "fc2" },
  project_conv: { unit: "project", part: "0" },
  project_bn: { unit: "project", part: "1" },
} as const;
/** The stem of the models whose layers are one `features` Sequential: a Conv2dNormActivation at features[0]. */
const FEATURES_STEM = { stem_conv: "features.0.0", stem_bn: "features.0.1" } as const;

/**
 * torchvision 0.14's module trees. EfficientNet (models/efficientnet.py): features[0] the
 * stem, features[s] the s-th stage's blocks, each an MBConv whose `block` Sequential holds
 * expand (when the ratio is not 1), depthwise, SqueezeExcitation (fc1, fc2) and project
 * units in order; then the head conv and `classifier` = Sequential(Dropout, Linear).
 * MobileNetV2 (models/mobilenetv2.py): features flat, one InvertedResidual per block whose
 * `conv` Sequential is expand, depthwise (Conv2dNormActivation), then the project conv and
 * its BN as two plain entries. ResNet (models/resnet.py): conv1, bn1, layer1–4 of
 * Bottlenecks (conv1–3, bn1–3, downsample = Sequential(conv, BN)), fc.
 */
const TORCHVISION_FAMILIES: readonly ModelFamily[] = [
  {
    // models/mobilenetv3.py: features[0] the stem, features[i] the i-th InvertedResidual
    // (all blocks in one flat list) whose `block` Sequential holds expand (when the width
    // changes), depthwise, SqueezeExcitation (fc1, fc2) and project units in order; then the
    // last conv, and classifier = Sequential(Linear, Hardswish, Dropout, Linear).
    summary: "MobileNetV3 (InvertedResidual with a hidden classifier layer)",
    marker: "top_dense",
    stem: FEATURES_STEM,
    block: (_stage, _index, global) => `features.${global}.block`,
    units: "positional",
    parts: {
      ...INVERTED_RESIDUAL_SE,
    },
    head: (_stages, blocks) => ({
      top_conv: `features.${blocks + 1}.0`,
      top_bn: `features.${blocks + 1}.1`,
      top_dense: "classifier.0",
      predictions: "classifier.3",
    }),
  },
  {
    summary: "EfficientNet (MBConv with squeeze-and-excitation)",
    marker: "se_reduce",
    stem: FEATURES_STEM,
    block: (stage, index) => `features.${stage}.${index}.block`,
    units: "positional",
    parts: {
      ...INVERTED_RESIDUAL_SE,
    },
    head: (stages) => ({
      top_conv: `features.${stages + 1}.0`,
      top_bn: `features.${stages + 1}.1`,
      predictions: "classifier.1",
    }),
  },
  {
    // models/regnet.py, RegNet: stem = SimpleStemIN, a Conv2dNormActivation (stem.0, stem.1);
    // trunk_output = Sequential of AnyStages `block1`…`block4`, each of ResBottleneckBlocks
    // named `block{s}-{i}`: proj = Conv2dNormActivation(1x1, stride) when the shape changes,
    // f = BottleneckTransform, a Sequential of a (1x1), b (k×k grouped), se
    // (SqueezeExcitation: fc1, fc2; RegNetY) and c (1x1) Conv2dNormActivations; then fc. Its
    // blocks have ResNeXt's layers, so the network's name picks it.
    summary: "RegNet (ResBottleneckBlock with BottleneckTransform a, b, se, c)",
    networks: ["regnetx", "regnety"],
    stem: { stem_conv: "stem.0", stem_bn: "stem.1" },
    block: (stage, index) => `trunk_output.block${stage}.block${stage}-${index}`,
    units: "named",
    parts: {
      "1_conv": { unit: "f", part: "a.0" },
      "1_bn": { unit: "f", part: "a.1" },
      "2_conv": { unit: "f", part: "b.0" },
      "2_bn": { unit: "f", part: "b.1" },
      se_reduce: { unit: "f", part: "se.fc1" },
      se_expand: { unit: "f", part: "se.fc2" },
      "3_conv": { unit: "f", part: "c.0" },
      "3_bn": { unit: "f", part: "c.1" },
      "0_conv": { unit: "proj", part: "0" },
      "0_bn": { unit: "proj", part: "1" },
    },
    head: () => ({ predictions: "fc" }),
  },
  {
    summary: "ResNet (Bottleneck)",
    marker: "1_conv",
    stem: { stem_conv: "conv1", stem_bn: "bn1" },
    block: (stage, index) => `layer${stage}.${index}`,
    units: "named",
    parts: {
      "1_conv": { unit: "conv1", part: null },
      "1_bn": { unit: "bn1", part: null },
      "2_conv": { unit: "conv2", part: null },
      "2_bn": { unit: "bn2", part: null },
      "3_conv": { unit: "conv3", part: null },
      "3_bn": { unit: "bn3", part: null },
      "0_conv": { unit: "downsample", part: "0" },
      "0_bn": { unit: "downsample", part: "1" },
    },
    head: () => ({ predictions: "fc" }),
  },
  {
    // models/mnasnet.py, MNASNet: one flat Sequential `layers`: stem conv 0, BN 1, ReLU 2;
    // the depthwise-separable block (effnet's MBConv1, stage 1 of the blocks) as depthwise
    // 3, BN 4, ReLU 5, pointwise 6, BN 7; the six _stack Sequentials at 8–13 of
    // _InvertedResidual whose own `layers` Sequential is expand 0, BN 1, ReLU 2, depthwise
    // 3, BN 4, ReLU 5, project 6, BN 7; the head conv 14, BN 15; classifier = Sequential(Dropout, Linear).
    summary: "MnasNet (_InvertedResidual in flat Sequentials)",
    networks: ["mnasnet"],
    stem: { stem_conv: "layers.0", stem_bn: "layers.1" },
    block: (stage, index) => (stage === 1 ? "layers" : `layers.${stage + 6}.${index}.layers`),
    units: "named",
    parts: {
      expand_conv: { unit: "0", part: null },
      expand_bn: { unit: "1", part: null },
      dwconv: { unit: "3", part: null },
      bn: { unit: "4", part: null },
      project_conv: { unit: "6", part: null },
      project_bn: { unit: "7", part: null },
    },
    head: (stages) => ({
      top_conv: `layers.${stages + 7}`,
      top_bn: `layers.${stages + 8}`,
      predictions: "classifier.1",
    }),
  },
  {
    summary: "MobileNetV2 (InvertedResidual)",
    stem: FEATURES_STEM,
    block: (_stage, _index, global) => `features.${global}.conv`,
    units: "positional",
    parts: {
      ...INVERTED_RESIDUAL,
      project_conv: { unit: "project_conv", part: null },
      project_bn: { unit: "project_bn", part: null },
    },
    head: (_stages, blocks) => ({
      top_conv: `features.${blocks + 1}.0`,
      top_bn: `features.${blocks + 1}.1`,
      predictions: "classifier.1",
    }),
  },
];

/** One table per reference: its model families, its tensor names and layouts per weight, its extra buffers. */
export interface ReferenceNaming {
  readonly families: readonly ModelFamily[];
  /** effnet weight name (per layer kind: conv, depthwise conv, BN, dense) → reference tensor name and layout. */
  readonly weights: Readonly<Record<string, { readonly name: string; readonly layout: LayoutName }>>;
  /** Buffers the reference keeps beside a layer's weights (BN's num_batches_tracked), read and ignored, written as 0. */
  readonly buffers: Readonly<Record<string, readonly string[]>>;
  /**
   * effnet weights the reference keeps outside its state dict: the statistics of Keras's
   * stored input Normalization, which torchvision applies in its transforms. An import
   * leaves them at their initial values (ImageNet's), an export leaves them out.
   */
  readonly outside: readonly string[];
}

export const REFERENCES = {
  torchvision: {
    families: TORCHVISION_FAMILIES,
    weights: {
      kernel: { name: "weight", layout: "convKernel" },
      depthwise_kernel: { name: "weight", layout: "depthwiseKernel" },
      bias: { name: "bias", layout: "vector" },
      gamma: { name: "weight", layout: "vector" },
      beta: { name: "bias", layout: "vector" },
      moving_mean: { name: "running_mean", layout: "vector" },
      moving_variance: { name: "running_var", layout: "vector" },
    },
    buffers: { moving_variance: ["num_batches_tracked"] },
    outside: ["mean", "variance", "count"],
  },
} as const satisfies Record<string, ReferenceNaming>;

export type ReferenceName = keyof typeof REFERENCES;

const BLOCK_NAME = /^block(\d+)([a-z]+)_(.+)$/;

/** Keras's block letters back to the block's index in its stage (a → 0, z → 25, aa → 26). */
export function letterIndex(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/**
 * The reference name of every weight, in order, and the reference's extra buffers. Layers
 * without weights are skipped; a weighted layer no rule covers is an EFF5007. `network`: the
 * spec's network name or a saved model's name (`network_variant`), for families chosen by it.
 */
export function referenceNames(
  weights: readonly EffnetWeight[],
  reference: ReferenceName,
  network = "",
): { tensors: NamedTensor[]; buffers: { key: string; layer: string }[]; diagnostics: Diagnostic[] } {
  const table: ReferenceNaming = REFERENCES[reference];
  const layers = [...new Set(weights.map((w) => w.layer))];
  const suffixes = layers.map((l) => BLOCK_NAME.exec(l)?.[3]).filter((s): s is string => s !== undefined);
  const name = network.toLowerCase();
  const family =
    table.families.find((f) => f.networks?.some((n) => name === n || name.startsWith(`${n}_`))) ??
    table.families.find((f) => f.marker !== undefined && (suffixes.includes(f.marker) || layers.includes(f.marker))) ??
    table.families.find((f) => f.marker === undefined && f.networks === undefined)!;
  const blocks = [
    ...new Set(
      layers
        .map((l) => BLOCK_NAME.exec(l))
        .filter((m) => m)
        .map((m) => `${m![1]}${m![2]}`),
    ),
  ];
  const stages = new Set(layers.map((l) => BLOCK_NAME.exec(l)?.[1]).filter((s) => s !== undefined)).size;
  const head = family.head(stages, blocks.length);
  // Per block, the units in order of first appearance (positional numbering).
  const unitsOf = new Map<string, string[]>();
  const modulePath = new Map<string, string | undefined>();
  for (const layer of layers) {
    const m = BLOCK_NAME.exec(layer);
    if (!m) {
      modulePath.set(layer, family.stem[layer] ?? head[layer]);
      continue;
    }
    const [, stage, letters, suffix] = m;
    const part = family.parts[suffix];
    if (!part) {
      modulePath.set(layer, undefined);
      continue;
    }
    const blockKey = `${stage}${letters}`;
    const units = unitsOf.get(blockKey) ?? [];
    if (!units.includes(part.unit)) units.push(part.unit);
    unitsOf.set(blockKey, units);
    const unit = family.units === "positional" ? String(units.indexOf(part.unit)) : part.unit;
    const container = family.block(Number(stage), letterIndex(letters), blocks.indexOf(blockKey) + 1);
    modulePath.set(layer, [container, unit, part.part].filter((x) => x !== null).join("."));
  }
  const tensors: NamedTensor[] = [];
  const buffers: { key: string; layer: string }[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const w of weights) {
    if (table.outside.includes(w.weight)) continue;
    const path = modulePath.get(w.layer);
    const naming = table.weights[w.weight];
    if (path === undefined || !naming) {
      if (!diagnostics.some((d) => d.message.includes(`\`${w.layer}\``)))
        diagnostics.push(diagnostic("EFF5007", { layer: w.layer, reference }));
      continue;
    }
    // A dense layer's kernel is [in, out]; everything else called `kernel` is a conv's.
    const layout: LayoutName = naming.layout === "convKernel" && w.shape.length === 2 ? "denseKernel" : naming.layout;
    tensors.push({
      ...w,
      key: `${path}.${naming.name}`,
      layout,
      referenceShape: permuteShape(w.shape, LAYOUTS[layout].toReference),
    });
    for (const buffer of table.buffers[w.weight] ?? []) buffers.push({ key: `${path}.${buffer}`, layer: w.layer });
  }
  return { tensors, buffers, diagnostics };
}

/** The IR's weights in model order (the order tfjs lists a layer's weights: the builder's). */
export function irWeights(ir: NetworkIR): EffnetWeight[] {
  return ir.layers.flatMap((l) => l.weights.map((w) => ({ layer: l.name, weight: w.name, shape: w.shape })));
}
