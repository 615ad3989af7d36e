import type { NetworkCost } from "../cost/cost.ts";
import { activationLayer, builtinActivation } from "../vocabulary/activations.ts";
import { CUSTOM_LAYER_NAMES, type CustomLayerName } from "../vocabulary/custom-layers.ts";
import { CUSTOM_LAYER_SOURCES } from "./custom-layer-sources.ts";
import type { Activation, Layer, LayerKind, NetworkIR } from "../ir/ir.ts";
import { variantFileStem } from "../semantics/check.ts";
import { PADDING_RULES } from "../vocabulary/conventions.ts";
import { ifLines, objectLine, statementLines } from "./layout.ts";
import {
  DEFAULT_INITIALIZATION,
  INITIALIZATION_CONVENTIONS,
  INITIALIZER_HELPERS,
  type InitializationConventionName,
  type InitializerHelper,
  type WeightRole,
} from "./initialization.ts";
import { commentText, commentWord, IdentifierPool, numberLiteral, shapeLiteral, stringLiteral } from "./literals.ts";

/**
 * IR → module source: TypeScript, or JavaScript with a `.d.ts` beside it (the same code
 * without its types; see Dialect). Laid out as prettier would print it (src/codegen/layout.ts),
 * without running prettier.
 *
 * The module imports only `@tensorflow/tfjs`, so it runs in Node and in a browser, and
 * builds the network with the tfjs layers functional API: one
 * `const name = tf.layers.kind({...}).apply(inputs)` per IR layer, with the IR's (Keras's)
 * layer names, so the tfjs model summary reads like the audit's layer table and weights
 * can be ported by name. Everything is a built-in, serialisable tfjs layer, except where
 * tfjs lacks one (see CUSTOM_LAYERS), whose class is emitted into the module and
 * registered with tf.serialization so that a saved model loads again.
 */

/** What the module says about where it came from, and what its metadata reports. */
export interface ModuleInfo {
  /** The spec as the header and `metadata.source` name it: a `/`-separated path relative to the module's folder, or its file name (src/codegen/generate.ts decides). */
  readonly source: string;
  /** The command that regenerates the module, word by word, for the header: `npx effnet compile specs/efficientnet.effnet`. */
  readonly command: readonly string[];
  /** The variant's coefficients as the spec's variants table (or φ) gives them. */
  readonly coefficients: {
    readonly width: number;
    readonly depth: number;
    readonly resolution: number;
    readonly phi?: number;
  };
}

/**
 * What the module is written in. `js` is the `ts` module without its type annotations and
 * casts, for plain Node and bundlers; its types go to a `.d.ts` beside it (emitDeclarations).
 * Everything TypeScript-only goes through a TypeText (`ts(...)`) or symbolic(), so the two cannot drift.
 */
export type Dialect = "ts" | "js";

/** Returns TypeScript-only text in the `ts` dialect and nothing in `js`. */
type TypeText = (text: string) => string;

const typeTextFor =
  (dialect: Dialect): TypeText =>
  (text) =>
    dialect === "ts" ? text : "";

/** How one layer is emitted: what the emitter may need besides the layer itself. */
interface EmitContext {
  /** Code for the layer's inputs: the identifiers of the layers it consumes. */
  readonly inputs: readonly string[];
  /** This layer is the network's output classifier: its units follow `options.classes`. */
  readonly isClassifier: boolean;
  /** This layer is the classifier's dropout: its rate follows `options.dropout`. */
  readonly isTopDropout: boolean;
  /** Code for this layer's seed: the draws of its initialisers and dropout masks. */
  readonly seed: string;
  /** Code for the initialiser of one of the layer's weights, by the module's convention. */
  readonly initializer: (role: WeightRole, shape: readonly number[], units?: string) => string;
}

/** Returns the expression that builds the layer and applies it, e.g. `tf.layers.add({...}).apply([a, b])`. */
type Emitter<K extends LayerKind> = (layer: Extract<Layer, { kind: K }>, ctx: EmitContext) => string;

/**
 * An object literal from [key, code] pairs; `undefined` code leaves the key out (the tfjs
 * default applies). One line; the statement template breaks it where prettier would.
 */
function config(entries: Record<string, string | undefined>): string {
  const fields = Object.entries(entries).filter(([, code]) => code !== undefined);
  return fields.length ? `{ ${fields.map(([key, code]) => `${key}: ${code}`).join(", ")} }` : "{}";
}

const applyTo = (ctx: EmitContext) =>
  ctx.inputs.length === 1 ? `.apply(${ctx.inputs[0]})` : `.apply([${ctx.inputs.join(", ")}])`;
/**
 * `apply` returns a tensor or a list of them; the cast says it is one, symbolic. Always
 * the last thing an emitter writes, so the `js` dialect can drop it (the statement template).
 */
const SYMBOLIC_CAST = " as tf.SymbolicTensor";
const symbolic = (expression: string) => `${expression}${SYMBOLIC_CAST}`;
/** tfjs's default activation is `linear`, its default strides 1: leave them out, as a hand-written model would. */
const activationField = (activation: Activation) =>
  activation === "linear" ? undefined : stringLiteral(tfjsActivation(activation));
/** The builder fuses only built-in activations into conv and dense layers (LayerBuilder.fusable). */
function tfjsActivation(activation: Activation): string {
  const builtin = builtinActivation(activation);
  if (builtin === undefined) throw new Error(`codegen: ${activation} has no tfjs identifier; it is a layer of its own`);
  return builtin;
}
const stridesField = (strides: number) => (strides === 1 ? undefined : numberLiteral(strides));

/**
 * Names of module-level helpers that layers may need, emitted once each before
 * buildModel, only into modules that use them.
 */
type Helper =
  "perSampleNoiseShape" | "GlobalAveragePooling2DKeepDims" | "correctPad" | "SeededDropout" | CustomLayerName;

/** Each helper's code; type annotations and casts only through `ts`, so the `js` dialect leaves them out. */
/**
 * The custom layers' classes, as src/runtime/layers.ts defines them (which registers the same
 * classes for loading saved models): src/codegen/custom-layer-sources.ts holds their text in
 * both dialects, generated from the runtime's by scripts/custom-layers.ts.
 */
const customLayerHelper =
  (name: CustomLayerName) =>
  (ts: TypeText): string => {
    const source = CUSTOM_LAYER_SOURCES[name];
    if (!source) throw new Error(`codegen: src/runtime/layers.ts has no emit region ${name}; run npm run generate`);
    return `\n${ts("1") ? source.ts : source.js}`;
  };

const HELPERS: Record<Helper, (ts: TypeText) => string> = {
  ...(Object.fromEntries(CUSTOM_LAYER_NAMES.map((name) => [name, customLayerHelper(name)])) as Record<
    CustomLayerName,
    (ts: TypeText) => string
  >),
  // tf.layers.dropout draws its masks from Math.random unless seeded, and with a seed draws
  // the same mask at every step: Dropout.call passes its seed to tf.dropout, whose
  // randomUniform restarts a generator from it on every call (tfjs-layers core.ts,
  // tfjs-core ops/dropout.ts). Reproducible training needs masks that differ per step yet
  // repeat per run.
  SeededDropout: (ts) => `
/**
 * Dropout whose masks are reproducible: its n-th mask in training is drawn from the seed
 * \`\${seed}:\${n}\`, so masks differ from step to step and repeat in every run with the same
 * seed (tf.layers.dropout with a seed would repeat one mask at every step). Without a seed
 * it draws from Math.random, like tf.layers.dropout. In inference it passes its input
 * through. It serialises as a plain Dropout (rate and noise shape, no seed), so a saved
 * model loads with tfjs alone; \`draws\` counts the masks drawn, for resuming a run.
 */
class SeededDropout extends tf.layers.Layer {
  static className = "EffnetSeededDropout";
${ts(`  readonly rate: number;
  readonly noiseShape?: number[];
  readonly seed?: number;
`)}  draws = 0;
  ${
    ts("1")
      ? `constructor(
    args: ConstructorParameters<typeof tf.layers.Layer>[0] & { rate: number; noiseShape?: number[]; seed?: number },
  ) {`
      : "constructor(args) {"
  }
    super(args);
    this.rate = args.rate;
    this.noiseShape = args.noiseShape;
    this.seed = args.seed;
  }
  call(inputs${ts(": tf.Tensor | tf.Tensor[]")}, kwargs${ts(": { training?: boolean }")})${ts(": tf.Tensor")} {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    // A null axis of the noise shape takes the input's size, as Dropout.getNoiseShape.
    const noiseShape = this.noiseShape?.map((n, axis) => n ?? x.shape[axis]);
    const seed = this.seed === undefined ? undefined : \`\${this.seed}:\${this.draws}\`;
    this.draws++;
    return tf.tidy(() => tf.dropout(x, this.rate, noiseShape, seed));
  }
  getClassName()${ts(": string")} {
    return "Dropout";
  }
  getConfig()${ts(": tf.serialization.ConfigDict")} {
    ${
      ts("1")
        ? `return {
      ...super.getConfig(),
      rate: this.rate,
      noiseShape: this.noiseShape ?? null,
    } as tf.serialization.ConfigDict;`
        : "return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape ?? null };"
    }
  }
}
`,
  // Keras efficientnet.py drops whole residual branches per example with
  // `layers.Dropout(rate, noise_shape=(None, 1, 1, 1))`. tfjs's Dropout does the same:
  // Dropout.getNoiseShape (tfjs-layers/src/layers/core.ts) replaces a null entry with the
  // input's size on that axis, and the config serialises the nulls as Keras's does; only
  // its type says number[], hence the cast.
  perSampleNoiseShape: (ts) => `
/** Drop connect: one keep/drop draw per example (the null axis is the batch), as Keras's noise_shape=(None, 1, 1, 1). */
const perSampleNoiseShape = [null, 1, 1, 1]${ts(" as unknown as number[]")};
`,
  // tf.layers.globalAveragePooling2d has no keepDims (tfjs-layers 4.22, unlike Keras 2.6+).
  GlobalAveragePooling2DKeepDims: (ts) => `
/**
 * Global average pooling that keeps the spatial axes ([h, w, c] → [1, 1, c]), as Keras's
 * GlobalAveragePooling2D(keepdims=True); tf.layers.globalAveragePooling2d has no keepDims.
 * Registered with tf.serialization so a saved model that uses it loads again.
 */
class GlobalAveragePooling2DKeepDims extends tf.layers.Layer {
  static className = "EffnetGlobalAveragePooling2DKeepDims";
  computeOutputShape(inputShape${ts(": tf.Shape | tf.Shape[]")})${ts(": tf.Shape")} {
    const shape = ${ts("(")}Array.isArray(inputShape[0]) ? inputShape[0] : inputShape${ts(") as tf.Shape")};
    return [shape[0], 1, 1, shape[3]];
  }
  call(inputs${ts(": tf.Tensor | tf.Tensor[]")})${ts(": tf.Tensor")} {
    return tf.tidy(() => tf.mean(Array.isArray(inputs) ? inputs[0] : inputs, [1, 2], true));
  }
}
tf.serialization.registerClass(GlobalAveragePooling2DKeepDims);
`,
  // The same formula as src/vocabulary/conventions.ts WINDOW_PADDINGS.correct_pad, evaluated when the
  // model is built, because buildModel's \`resolution\` may change the parity of a layer's input.
  correctPad: (ts) => `
/**
 * Keras imagenet_utils.correct_pad: the zero padding before a strided k×k \`valid\` window
 * that equals TensorFlow's \`same\` (one more row/column at the bottom/right for even sizes).
 */
function correctPad(x${ts(": tf.SymbolicTensor")}, kernel${ts(": number")})${ts(": [[number, number], [number, number]]")} {
  const [, height, width] = x.shape${ts(" as number[]")};
  const pad = Math.floor(kernel / 2);
  return [
    [pad - (1 - (height % 2)), pad],
    [pad - (1 - (width % 2)), pad],
  ];
}
`,
};

/** Which helpers a layer needs. */
function helpersOf(layer: Layer): Helper[] {
  if (layer.kind === "dropout")
    return layer.attrs.perSample ? ["SeededDropout", "perSampleNoiseShape"] : ["SeededDropout"];
  if (layer.kind === "globalAvgPool" && layer.attrs.keepDims) return ["GlobalAveragePooling2DKeepDims"];
  if (layer.kind === "normalization") return ["EffnetNormalization"];
  if (layer.kind === "conv2d" && layer.attrs.groups > 1) return ["EffnetGroupedConv2D"];
  if (layer.kind === "activation") return [activationLayer(layer.attrs.activation) ?? []].flat();
  if (layer.kind === "zeroPadding2d" && layer.attrs.rule === "correct_pad") return ["correctPad"];
  return [];
}

/**
 * The one table of tfjs emission, one entry per IR layer kind (exhaustive: adding a kind
 * to src/ir/ir.ts without an entry here does not type-check). Each entry mirrors the
 * builder method of the same kind in src/ir/builder.ts.
 */
export const LAYER_EMITTERS: { readonly [K in LayerKind]: Emitter<K> } = {
  // The input's height and width come from buildModel's `resolution` option.
  input: (layer) =>
    `tf.input(${config({ name: stringLiteral(layer.name), shape: `[height, width, ${numberLiteral(layer.attrs.shape[2])}]` })})`,
  rescaling: (layer, ctx) =>
    symbolic(
      `tf.layers.rescaling(${config({
        name: stringLiteral(layer.name),
        scale: numberLiteral(layer.attrs.scale),
        offset: layer.attrs.offset === 0 ? undefined : numberLiteral(layer.attrs.offset),
      })})${applyTo(ctx)}`,
    ),
  normalization: (layer, ctx) =>
    symbolic(
      `new EffnetNormalization(${config({
        name: stringLiteral(layer.name),
        mean: shapeLiteral(layer.attrs.mean),
        std: shapeLiteral(layer.attrs.std),
        stored: String(layer.attrs.stored),
      })})${applyTo(ctx)}`,
    ),
  // Keras's correct_pad depends on the input's parity, so the module computes it (correctPad) for
  // whatever resolution it is built at; the other window paddings do not.
  zeroPadding2d: (layer, ctx) =>
    symbolic(
      `tf.layers.zeroPadding2d(${config({
        name: stringLiteral(layer.name),
        padding:
          layer.attrs.rule === "correct_pad"
            ? `correctPad(${ctx.inputs[0]}, ${numberLiteral(layer.attrs.kernel)})`
            : `[${layer.attrs.padding.map((p) => shapeLiteral(p)).join(", ")}]`,
      })})${applyTo(ctx)}`,
    ),
  // tfjs's conv2d has no `groups`: a grouped one is the custom layer (src/runtime/layers.ts), same weight names.
  conv2d: (layer, ctx) =>
    symbolic(
      `${layer.attrs.groups > 1 ? "new EffnetGroupedConv2D" : "tf.layers.conv2d"}(${config({
        name: stringLiteral(layer.name),
        filters: numberLiteral(layer.attrs.filters),
        kernelSize: numberLiteral(layer.attrs.kernel),
        strides: stridesField(layer.attrs.strides),
        padding: stringLiteral(layer.attrs.padding),
        useBias: String(layer.attrs.useBias),
        activation: activationField(layer.attrs.activation),
        kernelInitializer: ctx.initializer("convKernel", weightShape(layer, "kernel")),
        biasInitializer: layer.attrs.useBias ? ctx.initializer("bias", weightShape(layer, "bias")) : undefined,
        groups: layer.attrs.groups > 1 ? numberLiteral(layer.attrs.groups) : undefined,
      })})${applyTo(ctx)}`,
    ),
  depthwiseConv2d: (layer, ctx) =>
    symbolic(
      `tf.layers.depthwiseConv2d(${config({
        name: stringLiteral(layer.name),
        kernelSize: numberLiteral(layer.attrs.kernel),
        strides: stridesField(layer.attrs.strides),
        padding: stringLiteral(layer.attrs.padding),
        depthMultiplier: layer.attrs.depthMultiplier === 1 ? undefined : numberLiteral(layer.attrs.depthMultiplier),
        useBias: String(layer.attrs.useBias),
        depthwiseInitializer: ctx.initializer("depthwiseKernel", weightShape(layer, "depthwise_kernel")),
        biasInitializer: layer.attrs.useBias ? ctx.initializer("bias", weightShape(layer, "bias")) : undefined,
      })})${applyTo(ctx)}`,
    ),
  // tfjs's moving averages follow Keras's: moving = moving·momentum + batch·(1 − momentum)
  // (BatchNormalization.call, tfjs-layers/src/layers/normalization.ts), so the spec's
  // Keras-convention momentum carries over unchanged.
  batchNorm: (layer, ctx) =>
    symbolic(
      `tf.layers.batchNormalization(${config({
        name: stringLiteral(layer.name),
        axis: "-1",
        momentum: numberLiteral(layer.attrs.momentum),
        epsilon: numberLiteral(layer.attrs.epsilon),
        gammaInitializer: ctx.initializer("gamma", weightShape(layer, "gamma")),
        betaInitializer: ctx.initializer("beta", weightShape(layer, "beta")),
      })})${applyTo(ctx)}`,
    ),
  // An activation without a tfjs identifier is its custom layer (src/vocabulary/activations.ts).
  activation: (layer, ctx) => {
    const custom = activationLayer(layer.attrs.activation);
    return symbolic(
      custom
        ? `new ${custom}(${config({ name: stringLiteral(layer.name) })})${applyTo(ctx)}`
        : `tf.layers.activation(${config({ name: stringLiteral(layer.name), activation: stringLiteral(tfjsActivation(layer.attrs.activation)) })})${applyTo(ctx)}`,
    );
  },
  globalAvgPool: (layer, ctx) =>
    symbolic(
      layer.attrs.keepDims
        ? `new GlobalAveragePooling2DKeepDims(${config({ name: stringLiteral(layer.name) })})${applyTo(ctx)}`
        : `tf.layers.globalAveragePooling2d(${config({ name: stringLiteral(layer.name) })})${applyTo(ctx)}`,
    ),
  maxPool: (layer, ctx) =>
    symbolic(
      `tf.layers.maxPooling2d(${config({
        name: stringLiteral(layer.name),
        poolSize: numberLiteral(layer.attrs.pool),
        strides: numberLiteral(layer.attrs.strides),
        padding: stringLiteral(layer.attrs.padding),
      })})${applyTo(ctx)}`,
    ),
  reshape: (layer, ctx) =>
    symbolic(
      `tf.layers.reshape(${config({ name: stringLiteral(layer.name), targetShape: shapeLiteral(layer.attrs.targetShape) })})${applyTo(ctx)}`,
    ),
  // tfjs's Merge layers broadcast [h, w, c] × [1, 1, c] as Keras's do (Merge.computeElementwiseOpOutputShape).
  multiply: (layer, ctx) =>
    symbolic(`tf.layers.multiply(${config({ name: stringLiteral(layer.name) })})${applyTo(ctx)}`),
  add: (layer, ctx) => symbolic(`tf.layers.add(${config({ name: stringLiteral(layer.name) })})${applyTo(ctx)}`),
  dropout: (layer, ctx) =>
    symbolic(
      `new SeededDropout(${config({
        name: stringLiteral(layer.name),
        rate: ctx.isTopDropout ? "dropout" : numberLiteral(layer.attrs.rate),
        noiseShape: layer.attrs.perSample ? "perSampleNoiseShape" : undefined,
        seed: ctx.seed,
      })})${applyTo(ctx)}`,
    ),
  dense: (layer, ctx) => {
    const units = ctx.isClassifier ? "classes" : numberLiteral(layer.attrs.units);
    return symbolic(
      `tf.layers.dense(${config({
        name: stringLiteral(layer.name),
        units,
        useBias: String(layer.attrs.useBias),
        activation: activationField(layer.attrs.activation),
        kernelInitializer: ctx.initializer("denseKernel", weightShape(layer, "kernel"), units),
        biasInitializer: layer.attrs.useBias ? ctx.initializer("bias", weightShape(layer, "bias")) : undefined,
      })})${applyTo(ctx)}`,
    );
  },
};

/** The shape of one of the layer's weights, by its Keras name; the IR's builder names them (src/ir/builder.ts). */
function weightShape(layer: Layer, name: string): readonly number[] {
  const weight = layer.weights.find((w) => w.name === name);
  if (!weight) throw new Error(`codegen: layer ${JSON.stringify(layer.name)} has no ${name} weight`);
  return weight.shape;
}

function emitLayer(layer: Layer, ctx: EmitContext): string {
  // The cast picks the table entry for this layer's kind; the table's type guarantees it exists and matches.
  return (LAYER_EMITTERS[layer.kind] as Emitter<LayerKind>)(layer as never, ctx);
}

/**
 * The classifier on top of the features, as Keras's `include_top` means it
 * (efficientnet.py, mobilenet_v2.py: avg_pool, top_dropout, predictions): walking back
 * from the output, a dense layer, then any (whole-example) dropout, ending at a global
 * average pooling, each consumed only by the next (a hidden dense layer and its
 * activation may sit between them: MobileNetV3). Empty when the network does not end
 * that way; then `includeTop: false` returns the same outputs.
 */
export function classifierLayers(ir: NetworkIR): { readonly top: readonly Layer[]; readonly features: string } {
  const byName = new Map(ir.layers.map((l) => [l.name, l]));
  const consumers = new Map<string, number>();
  for (const l of ir.layers) for (const input of l.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  const output = byName.get(ir.output);
  const none = { top: [], features: ir.output };
  if (!output || output.kind !== "dense" || output.inputs.length !== 1) return none;
  const top: Layer[] = [output];
  let current = byName.get(output.inputs[0]);
  while (current && current.inputs.length === 1 && consumers.get(current.name) === 1) {
    if (current.kind === "globalAvgPool" && !current.attrs.keepDims) {
      top.unshift(current);
      return { top, features: current.inputs[0] };
    }
    // MobileNetV3's hidden dense layer and its activation belong to the top too (Keras mobilenet_v3.py include_top).
    const partOfTop =
      (current.kind === "dropout" && !current.attrs.perSample) ||
      current.kind === "dense" ||
      current.kind === "activation";
    if (!partOfTop) break;
    top.unshift(current);
    current = byName.get(current.inputs[0]);
  }
  return none;
}

/** One line on what the convention makes the model compute, for the module's header. */
function conventionSummary(ir: NetworkIR): string {
  const c = ir.convention;
  return [
    `strided windows pad ${PADDING_RULES[c.padding].summary.split(":")[0]}`,
    c.preprocessing === "none"
      ? "no input preprocessing"
      : `input pixels in [0, 255], ${c.preprocessing} preprocessing`,
    c.classifierActivation === "linear"
      ? "the classifier outputs logits"
      : `the classifier outputs ${c.classifierActivation}`,
  ].join("; ");
}

/** The variant's file name stem: `B0` → `b0`, `V2_1.0` → `v2_1_0`. Names are validated by the semantics (NAME_PATTERN, VARIANT_NAME_PATTERN); check again before using one as a path. */
export function moduleFileStem(name: string): string {
  const stem = variantFileStem(name);
  if (!/^[a-z][a-z0-9_]*$/.test(stem)) throw new Error(`codegen: ${JSON.stringify(name)} cannot name a generated file`);
  return stem;
}

/** Facts about the network that the module's parts share, found once per IR (each part asks). */
const factsOf = new WeakMap<NetworkIR, ReturnType<typeof findModuleFacts>>();
function moduleFacts(ir: NetworkIR): ReturnType<typeof findModuleFacts> {
  let facts = factsOf.get(ir);
  if (!facts) factsOf.set(ir, (facts = findModuleFacts(ir)));
  return facts;
}

function findModuleFacts(ir: NetworkIR) {
  const { top, features } = classifierLayers(ir);
  const topDropout = top.find((l) => l.kind === "dropout");
  const classifier = top.find((l) => l.name === ir.output);
  if (ir.inputShape.length !== 3)
    throw new Error(`codegen: expected an image input [height, width, channels], got ${shapeLiteral(ir.inputShape)}`);
  const [height, width] = ir.inputShape;
  return { top, features, topDropout, classifier, height, width };
}

/** The first lines of every emitted file: where it came from and how to regenerate it. */
function header(ir: NetworkIR, info: ModuleInfo): string {
  return `// Generated by effnet from ${commentText(info.source)}, network ${commentText(ir.network)}, variant ${commentText(ir.variant)}.
// Do not edit: change the spec and run \`${info.command.map(commentWord).join(" ")}\` instead.
// Convention ${commentText(ir.convention.name)}: ${commentText(conventionSummary(ir))}.
`;
}

/** A metadata field: a literal (numbers, strings, null), a shape (a readonly tuple in the type) or a nested object. */
type MetadataField = readonly [key: string, code: string | readonly MetadataField[], kind?: "shape"];

/** `metadata`'s fields, in order; its value and its type (in the `.d.ts`) are both written from these. */
function metadataFields(ir: NetworkIR, cost: NetworkCost, info: ModuleInfo): MetadataField[] {
  const { topDropout, height } = moduleFacts(ir);
  const c = info.coefficients;
  return [
    ["network", stringLiteral(ir.network)],
    ["variant", stringLiteral(ir.variant)],
    ["source", stringLiteral(info.source)],
    [
      "coefficients",
      [
        ["width", numberLiteral(c.width)],
        ["depth", numberLiteral(c.depth)],
        ["resolution", numberLiteral(c.resolution)],
        ["phi", c.phi === undefined ? "null" : numberLiteral(c.phi)],
      ],
    ],
    ["resolution", numberLiteral(height)],
    ["inputShape", shapeLiteral(ir.inputShape), "shape"],
    ["classes", numberLiteral(ir.classes)],
    ["dropout", topDropout?.kind === "dropout" ? numberLiteral(topDropout.attrs.rate) : "0"],
    [
      "params",
      [
        ["total", numberLiteral(cost.params.total)],
        ["trainable", numberLiteral(cost.params.trainable)],
        ["nonTrainable", numberLiteral(cost.params.nonTrainable)],
      ],
    ],
    ["macs", numberLiteral(cost.macs)],
    ["flops", numberLiteral(cost.flops)],
    ["layers", numberLiteral(ir.layers.length)],
    ["initialization", stringLiteral(initializationOf(ir))],
    [
      "convention",
      [
        ["name", stringLiteral(ir.convention.name)],
        ["padding", stringLiteral(ir.convention.padding)],
        ["preprocessing", stringLiteral(ir.convention.preprocessing)],
        ["output", stringLiteral(ir.convention.classifierActivation === "linear" ? "logits" : "probabilities")],
      ],
    ],
  ];
}

/** The metadata object's fields as value code (`as const` in TypeScript) or, for the `.d.ts`, as its type. */
function metadataText(fields: readonly MetadataField[], as: "value" | "type"): string {
  const head = (key: string) => `${as === "type" ? "readonly " : ""}${key}: `;
  const value = ([key, code, kind]: MetadataField): string =>
    typeof code === "string"
      ? as === "type" && kind === "shape"
        ? `readonly ${code}`
        : code
      : `{ ${code.map((f) => `${head(f[0])}${value(f)}`).join(as === "type" ? "; " : ", ")} }`;
  const terminator = as === "type" ? ";" : ",";
  return fields.map((f) => `${objectLine("  ", head(f[0]), value(f), terminator, terminator)}\n`).join("");
}

const METADATA_DOC = `/**
 * The compiler's figures for this variant at its own resolution and class count, as
 * \`effnet audit\` reports them. MACs are multiply-adds (the paper's "FLOPS"); FLOPs = 2 × MACs.
 */
`;

function buildOptionsInterface(ir: NetworkIR): string {
  const { topDropout, classifier, height, width } = moduleFacts(ir);
  return `export interface BuildOptions {
  /** Output classes: the units of the classifier, ${classifier ? commentText(classifier.name) : "none here"} (default ${numberLiteral(ir.classes)}). Nothing else changes. */
  readonly classes?: number;
  /** Input height and width in pixels (default ${numberLiteral(height)}${width !== height ? `×${numberLiteral(width)}` : ""}). Parameter counts do not depend on it. */
  readonly resolution?: number;
  /** Dropout rate before the classifier (default: the variant's, ${topDropout?.kind === "dropout" ? numberLiteral(topDropout.attrs.rate) : "none"}).${topDropout ? "" : " This variant has no such layer, so it has no effect."} */
  readonly dropout?: number;
  /** With \`false\`, leave out the pooling, dropout and dense classifier and return the last feature map, as Keras's include_top=False. */
  readonly includeTop?: boolean;
  /**
   * Seed of every random draw the model makes: its initial weights and its dropout masks.
   * The same seed builds bit-identical weights; none draws from Math.random, as tfjs does.
   */
  readonly seed?: number;
}
`;
}

const buildModelDoc = (ir: NetworkIR) => `/**
 * Builds ${commentWord(ir.network)} ${commentWord(ir.variant)} with freshly initialised weights (the tfjs layers functional API),
 * drawn as ${INITIALIZATION_CONVENTIONS[initializationOf(ir)].source.replace(/\*\//g, "*\\/")}.
 */
`;

/** How fresh weights are drawn: the convention's (src/codegen/initialization.ts has one entry per convention). */
const initializationOf = (ir: NetworkIR): InitializationConventionName =>
  ir.convention.name in INITIALIZATION_CONVENTIONS
    ? (ir.convention.name as InitializationConventionName)
    : DEFAULT_INITIALIZATION;

/**
 * The emitted module's text, before formatting, in either dialect. Deterministic: a pure
 * function of its arguments.
 */
export function emitModule(ir: NetworkIR, cost: NetworkCost, info: ModuleInfo, dialect: Dialect = "ts"): string {
  const ts = typeTextFor(dialect);
  const { top, features, topDropout, classifier, height, width } = moduleFacts(ir);
  const topNames = new Set(top.map((l) => l.name));
  const featureLayers = ir.layers.filter((l) => !topNames.has(l.name));

  // Identifiers the module already uses, so no layer variable shadows them.
  const ids = new IdentifierPool([
    "tf",
    "metadata",
    "BuildOptions",
    "buildModel",
    "options",
    "height",
    "width",
    "classes",
    "dropout",
    "includeTop",
    "modelName",
    "seed",
    "layerSeed",
    ...(Object.keys(HELPERS) as Helper[]),
    ...(Object.keys(INITIALIZER_HELPERS) as InitializerHelper[]),
    "perSampleNoiseShape",
    "GlobalAveragePooling2DKeepDims",
    "correctPad",
    ...CUSTOM_LAYER_NAMES,
  ]);
  const idOf = new Map<string, string>();
  for (const layer of ir.layers) idOf.set(layer.name, ids.allocate(layer.name));

  const convention = INITIALIZATION_CONVENTIONS[initializationOf(ir)];
  const initializerHelpers = new Set<InitializerHelper>();
  // A layer's seed is its position in the IR (a map: indexOf per layer made emitting quadratic).
  const position = new Map(ir.layers.map((l, i) => [l, i]));
  const statement = (layer: Layer) => {
    const seed = `layerSeed(${numberLiteral(position.get(layer)!)})`;
    const ctx: EmitContext = {
      inputs: layer.inputs.map((name) => {
        const id = idOf.get(name);
        if (!id)
          throw new Error(
            `codegen: layer ${JSON.stringify(layer.name)} consumes ${JSON.stringify(name)}, which comes later or not at all`,
          );
        return id;
      }),
      isClassifier: layer === classifier,
      isTopDropout: layer === topDropout,
      seed,
      initializer: (role, shape, units = "") => {
        const def = convention.initializers[role];
        if (def.helper) initializerHelpers.add(def.helper);
        return def.code({ shape, units, seed });
      },
    };
    const code = emitLayer(layer, ctx);
    const expression = dialect === "js" && code.endsWith(SYMBOLIC_CAST) ? code.slice(0, -SYMBOLIC_CAST.length) : code;
    return statementLines("  ", `const ${idOf.get(layer.name)} = `, expression);
  };

  const featureStatements = featureLayers.map(statement).join("\n");
  const topStatements = top.map(statement).join("\n");
  const helpers = [...new Set(ir.layers.flatMap(helpersOf))].sort();
  const input = ir.layers.find((l) => l.kind === "input");
  if (!input || input !== ir.layers[0]) throw new Error("codegen: the IR must start with its input layer");
  const modelName = stringLiteral(`${ir.network}_${ir.variant}`.toLowerCase());

  return `${header(ir, info)}import * as tf from "@tensorflow/tfjs";

${METADATA_DOC}export const metadata = {
${metadataText(metadataFields(ir, cost, info), "value")}}${ts(" as const")};
${ts(`\n${buildOptionsInterface(ir)}`)}${helpers.map((h) => HELPERS[h](ts)).join("")}${[...initializerHelpers]
    .sort()
    .map((h) => INITIALIZER_HELPERS[h](ts))
    .join("")}
${buildModelDoc(ir)}export function buildModel(options${ts(": BuildOptions")} = {})${ts(": tf.LayersModel")} {
  const classes = options.classes ?? metadata.classes;
  const height = options.resolution ?? ${numberLiteral(height)};
  const width = options.resolution ?? ${numberLiteral(width)};
  const dropout = options.dropout ?? metadata.dropout;
  const includeTop = options.includeTop ?? true;
${ifLines("  ", "!Number.isInteger(classes) || classes < 1", "throw new RangeError(`classes must be a positive integer, got ${classes}`);")}
${ifLines("  ", "!Number.isInteger(height) || height < 1", "throw new RangeError(`resolution must be a positive integer, got ${height}`);")}
${ifLines("  ", "!(dropout >= 0 && dropout < 1)", "throw new RangeError(`dropout must be in [0, 1), got ${dropout}`);")}
  const seed = options.seed;
${ifLines("  ", "seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)", "throw new RangeError(`seed must be a whole number in [0, 2^32), got ${seed}`);")}
  // Layer i draws from seed·layers + i + 1: one seed per (seed, layer) pair, never 0 (which tfjs's generators treat as "unseeded").
${statementLines("  ", "const layerSeed = ", `(index${ts(": number")}) => (seed === undefined ? undefined : seed * metadata.layers + index + 1)`)}
  const modelName = ${modelName};

${featureStatements}
${ifLines("  ", "!includeTop", `return ${modelCall(idOf.get(input.name)!, idOf.get(features)!)};`)}
${top.length ? `\n${topStatements}\n` : ""}${statementLines("  ", "return ", modelCall(idOf.get(input.name)!, idOf.get(ir.output)!))}
}
`;
}

const modelCall = (inputs: string, outputs: string) =>
  `tf.model({ name: modelName, inputs: ${inputs}, outputs: ${outputs} })`;

/** The `.d.ts` beside a `js` module: the types the `ts` dialect declares inline. */
export function emitDeclarations(ir: NetworkIR, cost: NetworkCost, info: ModuleInfo): string {
  return `${header(ir, info)}import type * as tf from "@tensorflow/tfjs";

${METADATA_DOC}export declare const metadata: {
${metadataText(metadataFields(ir, cost, info), "type")}};

${buildOptionsInterface(ir)}
${buildModelDoc(ir)}export declare function buildModel(options?: BuildOptions): tf.LayersModel;
`;
}
