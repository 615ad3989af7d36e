import type { NetworkCost } from "../cost/cost.ts";
import type { Layer, LayerKind, NetworkIR } from "../ir/ir.ts";
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
 * IR → TypeScript module source (unformatted; src/codegen/generate.ts runs prettier).
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
  /** The spec's path as the user named it (relative, `/`-separated), for the header and metadata. */
  readonly sourcePath: string;
  /** The variant's coefficients as the spec's variants table (or φ) gives them. */
  readonly coefficients: {
    readonly width: number;
    readonly depth: number;
    readonly resolution: number;
    readonly phi?: number;
  };
  /** How fresh weights are drawn (src/codegen/initialization.ts); default keras. */
  readonly initialization?: InitializationConventionName;
}

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

/** An object literal from [key, code] pairs; `undefined` code leaves the key out (the tfjs default applies). */
function config(entries: Record<string, string | undefined>): string {
  const fields = Object.entries(entries).filter(([, code]) => code !== undefined);
  return `{ ${fields.map(([key, code]) => `${key}: ${code}`).join(", ")} }`;
}

const applyTo = (ctx: EmitContext) =>
  ctx.inputs.length === 1 ? `.apply(${ctx.inputs[0]})` : `.apply([${ctx.inputs.join(", ")}])`;
const symbolic = (expression: string) => `${expression} as tf.SymbolicTensor`;
/** tfjs's default activation is `linear`, its default strides 1: leave them out, as a hand-written model would. */
const activationField = (activation: string) => (activation === "linear" ? undefined : stringLiteral(activation));
const stridesField = (strides: number) => (strides === 1 ? undefined : numberLiteral(strides));

/**
 * Names of module-level helpers that layers may need, emitted once each before
 * buildModel, only into modules that use them.
 */
type Helper = "perSampleNoiseShape" | "GlobalAveragePooling2DKeepDims" | "SeededDropout";

const HELPERS: Record<Helper, string> = {
  // tf.layers.dropout draws its masks from Math.random unless seeded, and with a seed draws
  // the same mask at every step: Dropout.call passes its seed to tf.dropout, whose
  // randomUniform restarts a generator from it on every call (tfjs-layers core.ts,
  // tfjs-core ops/dropout.ts). Reproducible training needs masks that differ per step yet
  // repeat per run.
  SeededDropout: `
/**
 * Dropout whose masks are reproducible: its n-th mask in training is drawn from the seed
 * \`\${seed}:\${n}\`, so masks differ from step to step and repeat in every run with the same
 * seed (tf.layers.dropout with a seed would repeat one mask at every step). Without a seed
 * it draws from Math.random, as tf.layers.dropout does. In inference it passes its input
 * through. It serialises as a plain Dropout (rate and noise shape, no seed), so a saved
 * model loads with tfjs alone; \`draws\` counts the masks drawn, for resuming a run.
 */
class SeededDropout extends tf.layers.Layer {
  static className = "EffnetSeededDropout";
  readonly rate: number;
  readonly noiseShape?: number[];
  readonly seed?: number;
  draws = 0;
  constructor(args: ConstructorParameters<typeof tf.layers.Layer>[0] & { rate: number; noiseShape?: number[]; seed?: number }) {
    super(args);
    this.rate = args.rate;
    this.noiseShape = args.noiseShape;
    this.seed = args.seed;
  }
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    // A null axis of the noise shape takes the input's size, as Dropout.getNoiseShape.
    const noiseShape = this.noiseShape?.map((n, axis) => n ?? x.shape[axis]);
    const seed = this.seed === undefined ? undefined : \`\${this.seed}:\${this.draws}\`;
    this.draws++;
    return tf.tidy(() => tf.dropout(x, this.rate, noiseShape, seed));
  }
  getClassName(): string {
    return "Dropout";
  }
  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape ?? null } as tf.serialization.ConfigDict;
  }
}
`,
  // Keras efficientnet.py drops whole residual branches per example with
  // `layers.Dropout(rate, noise_shape=(None, 1, 1, 1))`. tfjs's Dropout does the same:
  // Dropout.getNoiseShape (tfjs-layers src/layers/core.ts) replaces a null entry with the
  // input's size on that axis, and the config serialises the nulls as Keras's does; only
  // its type says number[], hence the cast.
  perSampleNoiseShape: `
/** Drop connect: one keep/drop draw per example (the null axis is the batch), as Keras's noise_shape=(None, 1, 1, 1). */
const perSampleNoiseShape = [null, 1, 1, 1] as unknown as number[];
`,
  // tf.layers.globalAveragePooling2d has no keepDims (tfjs-layers 4.22, unlike Keras 2.6+).
  GlobalAveragePooling2DKeepDims: `
/**
 * Global average pooling that keeps the spatial axes ([h, w, c] → [1, 1, c]), as Keras's
 * GlobalAveragePooling2D(keepdims=True); tf.layers.globalAveragePooling2d has no keepDims.
 * Registered with tf.serialization so a saved model that uses it loads again.
 */
class GlobalAveragePooling2DKeepDims extends tf.layers.Layer {
  static className = "EffnetGlobalAveragePooling2DKeepDims";
  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], 1, 1, shape[3]];
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mean(Array.isArray(inputs) ? inputs[0] : inputs, [1, 2], true));
  }
}
tf.serialization.registerClass(GlobalAveragePooling2DKeepDims);
`,
};

/** Which helpers a layer needs. */
function helpersOf(layer: Layer): Helper[] {
  if (layer.kind === "dropout")
    return layer.attrs.perSample ? ["SeededDropout", "perSampleNoiseShape"] : ["SeededDropout"];
  if (layer.kind === "globalAvgPool" && layer.attrs.keepDims) return ["GlobalAveragePooling2DKeepDims"];
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
  conv2d: (layer, ctx) =>
    symbolic(
      `tf.layers.conv2d(${config({
        name: stringLiteral(layer.name),
        filters: numberLiteral(layer.attrs.filters),
        kernelSize: numberLiteral(layer.attrs.kernel),
        strides: stridesField(layer.attrs.strides),
        padding: stringLiteral(layer.attrs.padding),
        useBias: String(layer.attrs.useBias),
        activation: activationField(layer.attrs.activation),
        kernelInitializer: ctx.initializer("convKernel", weightShape(layer, "kernel")),
        biasInitializer: layer.attrs.useBias ? ctx.initializer("bias", weightShape(layer, "bias")) : undefined,
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
  // (BatchNormalization.call, tfjs-layers src/layers/normalization.ts), so the spec's
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
  activation: (layer, ctx) =>
    symbolic(
      `tf.layers.activation(${config({ name: stringLiteral(layer.name), activation: stringLiteral(layer.attrs.activation) })})${applyTo(ctx)}`,
    ),
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
 * average pooling, each consumed only by the next. Empty when the network does not end
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
    if (current.kind !== "dropout" || current.attrs.perSample) break;
    top.unshift(current);
    current = byName.get(current.inputs[0]);
  }
  return none;
}

/** The variant's file name stem: `B0` → `b0`. Names are validated by the semantics (NAME_PATTERN); check again before using one as a path. */
export function moduleFileStem(name: string): string {
  const stem = name.toLowerCase();
  if (!/^[a-z][a-z0-9_]*$/.test(stem)) throw new Error(`codegen: ${JSON.stringify(name)} cannot name a generated file`);
  return stem;
}

/** The emitted module's text, before formatting. Deterministic: a pure function of its arguments. */
export function emitModule(ir: NetworkIR, cost: NetworkCost, info: ModuleInfo): string {
  const { top, features } = classifierLayers(ir);
  const topNames = new Set(top.map((l) => l.name));
  const topDropout = top.find((l) => l.kind === "dropout");
  const classifier = top.find((l) => l.name === ir.output);
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
  ]);
  const idOf = new Map<string, string>();
  for (const layer of ir.layers) idOf.set(layer.name, ids.allocate(layer.name));

  const convention = INITIALIZATION_CONVENTIONS[info.initialization ?? DEFAULT_INITIALIZATION];
  const initializerHelpers = new Set<InitializerHelper>();
  const statement = (layer: Layer) => {
    const seed = `layerSeed(${numberLiteral(ir.layers.indexOf(layer))})`;
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
    return `  const ${idOf.get(layer.name)} = ${emitLayer(layer, ctx)};`;
  };

  const featureStatements = featureLayers.map(statement).join("\n");
  const topStatements = top.map(statement).join("\n");
  const helpers = [...new Set(ir.layers.flatMap(helpersOf))].sort();
  const initialization = info.initialization ?? DEFAULT_INITIALIZATION;
  const input = ir.layers.find((l) => l.kind === "input");
  if (!input || input !== ir.layers[0]) throw new Error("codegen: the IR must start with its input layer");
  const [height, width] = ir.inputShape;
  if (ir.inputShape.length !== 3)
    throw new Error(`codegen: expected an image input [height, width, channels], got ${shapeLiteral(ir.inputShape)}`);
  const modelName = stringLiteral(`${ir.network}_${ir.variant}`.toLowerCase());
  const regenerate = `npx effnet compile ${commentWord(info.sourcePath)}`;
  const c = info.coefficients;

  return `// Generated by effnet from ${commentText(info.sourcePath)}, network ${commentText(ir.network)}, variant ${commentText(ir.variant)}.
// Do not edit: change the spec and run \`${regenerate}\` instead.
import * as tf from "@tensorflow/tfjs";

/**
 * The compiler's figures for this variant at its own resolution and class count, as
 * \`effnet audit\` reports them. MACs are multiply-adds (the paper's "FLOPS"); FLOPs = 2 × MACs.
 */
export const metadata = {
  network: ${stringLiteral(ir.network)},
  variant: ${stringLiteral(ir.variant)},
  source: ${stringLiteral(info.sourcePath)},
  coefficients: { width: ${numberLiteral(c.width)}, depth: ${numberLiteral(c.depth)}, resolution: ${numberLiteral(c.resolution)}, phi: ${c.phi === undefined ? "null" : numberLiteral(c.phi)} },
  resolution: ${numberLiteral(height)},
  inputShape: ${shapeLiteral(ir.inputShape)},
  classes: ${numberLiteral(ir.classes)},
  dropout: ${topDropout?.kind === "dropout" ? numberLiteral(topDropout.attrs.rate) : "0"},
  params: { total: ${numberLiteral(cost.params.total)}, trainable: ${numberLiteral(cost.params.trainable)}, nonTrainable: ${numberLiteral(cost.params.nonTrainable)} },
  macs: ${numberLiteral(cost.macs)},
  flops: ${numberLiteral(cost.flops)},
  layers: ${numberLiteral(ir.layers.length)},
  initialization: ${stringLiteral(initialization)},
} as const;

export interface BuildOptions {
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
${helpers.map((h) => HELPERS[h]).join("")}${[...initializerHelpers]
    .sort()
    .map((h) => INITIALIZER_HELPERS[h])
    .join("")}
/**
 * Builds ${commentWord(ir.network)} ${commentWord(ir.variant)} with freshly initialised weights (the tfjs layers functional API),
 * drawn as ${convention.source.replace(/\*\//g, "*\\/")}.
 */
export function buildModel(options: BuildOptions = {}): tf.LayersModel {
  const classes = options.classes ?? metadata.classes;
  const height = options.resolution ?? ${numberLiteral(height)};
  const width = options.resolution ?? ${numberLiteral(width)};
  const dropout = options.dropout ?? metadata.dropout;
  const includeTop = options.includeTop ?? true;
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(\`classes must be a positive integer, got \${classes}\`);
  if (!Number.isInteger(height) || height < 1) throw new RangeError(\`resolution must be a positive integer, got \${height}\`);
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError(\`dropout must be in [0, 1), got \${dropout}\`);
  const seed = options.seed;
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32))
    throw new RangeError(\`seed must be a whole number in [0, 2^32), got \${seed}\`);
  // Layer i draws from seed·layers + i + 1: one seed per (seed, layer) pair, never 0 (which tfjs's generators treat as "unseeded").
  const layerSeed = (index: number) => (seed === undefined ? undefined : seed * metadata.layers + index + 1);
  const modelName = ${modelName};

${featureStatements}
  if (!includeTop) return tf.model({ name: modelName, inputs: ${idOf.get(input.name)}, outputs: ${idOf.get(features)} });

${topStatements}
  return tf.model({ name: modelName, inputs: ${idOf.get(input.name)}, outputs: ${idOf.get(ir.output)} });
}
`;
}
