import { metricValue } from "../vocabulary/budgets.ts";
import type { Compilation, CompiledVariant } from "../compile.ts";
import { BYTES_PER_FLOAT, type NetworkCost, type ParamCount } from "../cost/cost.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { positionAt } from "../diagnostics/source.ts";
import { elements, KERAS_CLASS, type Layer } from "../ir/ir.ts";
import { describeRounding, ROUNDING_PRESETS, type RoundingPresetName } from "../vocabulary/rounding.ts";
import { scaledShape } from "../scaling/scale.ts";
import {
  CONVENTIONS as CONVENTION_TABLE,
  PADDING_RULES,
  PREPROCESSING,
  type ConventionName,
} from "../vocabulary/conventions.ts";
import { constraintText, constraintValue } from "../semantics/scaling.ts";
import type { BudgetMetric, DimensionRule, Spec } from "../semantics/spec.ts";
import { baselineCoefficients, compoundAudit, type CompoundAudit } from "./compound.ts";
import { Costing } from "./hypothetical.ts";
import {
  DEFAULT_BATCHES,
  DEFAULT_OPTIMIZER,
  memoryByBatch,
  OPTIMIZERS,
  type MemoryAtBatch,
  type OptimizerName,
} from "./memory.ts";

/**
 * The audit as data: what `effnet audit --json` prints and every report format renders.
 * Plain JSON values only, no timestamps, so it diffs cleanly and is byte-for-byte
 * reproducible. Its JSON Schema is schema/audit.schema.json (src/report/schema.ts
 * validates every document against it before it leaves the program); a field added here
 * is added there, with its unit.
 */
export const AUDIT_SCHEMA_VERSION = 4;

export interface AuditDocument {
  readonly schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  readonly source: string;
  readonly conventions: Readonly<
    Record<
      "macs" | "flops" | "elementwise" | "params" | "memory" | "memoryByBatch" | "compound" | "rounding" | "convention",
      string
    >
  >;
  readonly memorySettings: {
    readonly batches: readonly number[];
    readonly optimizer: OptimizerName;
    readonly optimizerState: string;
  };
  readonly network: AuditNetwork | null;
  readonly variants: readonly AuditVariant[];
  readonly budgets: readonly AuditBudget[];
  readonly diagnostics: readonly AuditDiagnostic[];
}

export interface AuditBudget {
  readonly metric: BudgetMetric;
  readonly limit: number;
  /** The one variant the budget is for; null for every variant. */
  readonly variant: string | null;
  readonly line: number;
  readonly checks: readonly {
    readonly variant: string;
    readonly value: number;
    readonly fits: boolean;
    readonly headroom: number;
  }[];
}

export interface AuditNetwork {
  readonly name: string;
  readonly input: { readonly height: number; readonly width: number; readonly channels: number };
  readonly classes: number;
  readonly activation: string;
  readonly squeezeExcite: number;
  readonly batchNorm: { readonly momentum: number; readonly epsilon: number };
  readonly dropout: number;
  readonly dropConnect: number;
  readonly scaling: {
    readonly depth: AuditRule;
    readonly width: AuditRule;
    readonly resolution: AuditRule;
    readonly compound: null | {
      readonly alpha: number;
      readonly beta: number;
      readonly gamma: number;
      readonly constraint: null | {
        readonly expression: string;
        readonly value: number;
        readonly target: number;
        readonly tolerance: number | null;
        readonly distance: number;
      };
    };
  };
  readonly stages: readonly {
    readonly stage: number;
    readonly operator: string;
    readonly resolution: readonly [number, number];
    readonly channels: number;
    readonly layers: number;
    readonly stride: number;
  }[];
  readonly convention: {
    readonly name: ConventionName;
    readonly source: string;
    readonly padding: string;
    readonly preprocessing: string;
    readonly classifier: "logits" | "softmax";
  };
  readonly rounding: {
    readonly preset: RoundingPresetName;
    readonly source: string;
    readonly alternatives: readonly RoundingPresetName[];
  };
  /** The stage table as written (width 1, depth 1, the input resolution): what the compound audit divides by. */
  readonly baseline: {
    readonly width: number;
    readonly depth: number;
    readonly resolution: number;
    readonly params: ParamCount;
    readonly macs: number;
  };
}

export interface AuditRule {
  readonly rule: string;
  readonly fixedStages: readonly number[];
}

export interface Reported {
  readonly reported: number;
  readonly counted: number;
  readonly difference: number;
  readonly relative: number;
}

export interface AuditVariant {
  readonly name: string;
  readonly source: "explicit" | "phi";
  readonly phi: number | null;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  readonly params: ParamCount;
  readonly macs: number;
  readonly flops: number;
  readonly elementwise: number;
  readonly memory: NetworkCost["memory"];
  readonly reported: { readonly params: Reported | null; readonly macs: Reported | null };
  readonly stages: readonly AuditStage[];
  readonly layers: readonly AuditLayer[];
  readonly compound: CompoundAudit | null;
  readonly memoryByBatch: readonly MemoryAtBatch[];
  readonly roundingPresets: readonly AuditPresetComparison[];
  readonly summarySizes: AuditSummarySizes;
}

/**
 * The layer summary's footer, torchinfo's convention (torchinfo/model_statistics.py) at
 * batch 1, float32, in bytes: the input; twice the outputs of the layers that have
 * parameters (kept for the backward pass, their gradients); every parameter and BN
 * statistic; and their sum.
 */
export interface AuditSummarySizes {
  readonly inputBytes: number;
  readonly forwardBackwardBytes: number;
  readonly paramBytes: number;
  readonly totalBytes: number;
}

/** One repeat of a stage's operator (Keras's block2a, block2b, …) with its subtotals. */
export interface AuditBlock {
  readonly block: number;
  /** The common prefix of its layers' names (`block2a`), or the stage's operator when they share none. */
  readonly name: string;
  /** Names of its layers, in order. */
  readonly layers: readonly string[];
  readonly params: ParamCount;
  readonly macs: number;
  /** Sum of its layers' outputs at batch 1, bytes. */
  readonly activationBytes: number;
}

/** The same variant under another rounding preset (src/vocabulary/rounding.ts, ROUNDING_PRESETS). */
export interface AuditPresetComparison {
  readonly preset: RoundingPresetName;
  readonly sameShape: boolean;
  readonly differences: readonly {
    readonly stage: number;
    readonly channels: readonly [number, number];
    readonly layers: readonly [number, number];
  }[];
  /** Under the other preset; null when it refuses the network (`refused` says why). */
  readonly params: ParamCount | null;
  readonly macs: number | null;
  /** Why the other preset cannot build this variant (e.g. EFF3002, a stage rounded to no channels), or null. */
  readonly refused: string | null;
}

export interface AuditStage {
  readonly stage: number;
  readonly operator: string;
  readonly channels: number;
  readonly channelsProvenance: string;
  readonly layers: number;
  readonly layersProvenance: string;
  readonly stride: number;
  readonly inputResolution: readonly [number, number];
  readonly outputResolution: readonly [number, number];
  readonly params: ParamCount;
  readonly macs: number;
  readonly elementwise: number;
  /** This stage's share of the variant's MACs, 0..1. */
  readonly macsShare: number;
  /** Sum of its layers' outputs at batch 1, bytes. */
  readonly activationBytes: number;
  readonly blocks: readonly AuditBlock[];
}

export interface AuditLayer {
  readonly name: string;
  readonly kind: string;
  readonly stage: number;
  readonly outputShape: readonly number[];
  readonly params: ParamCount;
  readonly macs: number;
  readonly elementwise: number;
  /** Keras's class name (src/ir/ir.ts, KERAS_CLASS): Conv2D, BatchNormalization, … */
  readonly className: string;
  /** 0-based repeat of the stage's operator (AuditStage.blocks). */
  readonly block: number;
  /** The layers this one consumes (Keras's "Connected to"), in order. */
  readonly inputs: readonly string[];
  readonly inputShapes: readonly (readonly number[])[];
  /** Kernel (pool) size and stride of convolutions and pooling; null for other kinds. */
  readonly kernel: number | null;
  readonly strides: number | null;
  /** Its output at batch 1, float32, bytes. */
  readonly activationBytes: number;
}

export interface AuditDiagnostic {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly file: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly help: string | null;
}

export const CONVENTIONS: AuditDocument["conventions"] = {
  macs: 'multiply-accumulates of convolutions (SE 1x1 included) and dense layers, batch 1: the paper\'s "FLOPS"',
  flops: "2 × MACs",
  elementwise:
    "one per output element of batch norm, activations, SE scaling, residual adds, bias adds; one per input element of pooling; not in MACs",
  params:
    "trainable = kernels, biases, BN gamma and beta; non-trainable = BN moving mean and variance, and the mean, variance and count of Keras's input Normalization (7 for RGB) under `preprocessing keras`, as Keras's count_params() counts them",
  memory: "float32 (4 bytes), batch 1; activation peak = largest set of live layer outputs in topological order",
  memoryByBatch:
    "float32 bytes; inference = parameters + peak live activations × batch; training = effnet's training-memory estimate, what `effnet train` checks before it allocates: parameters + gradients (trainable) + optimizer state + what the trainer keeps for backpropagation × batch (per layer kind, the inputs or outputs its gradient reads) + the backward pass's working set + the wasm heap's overhead (initial 16 MiB, XNNPACK's packed filters, its growth step); measured against the trainer's own peak by `npm run bench -- memory`",
  compound:
    "log₂ units (doublings): deviation = log₂(MACs / baseline MACs) − φ, φ declared or implied by (α·β²·γ²)^φ = d·w²·(r/r₀)²; split per dimension by a Shapley decomposition (average over the 6 orders of switching depth, width, resolution from baseline to variant) minus each dimension's share of φ; the three contributions sum to the deviation",
  rounding:
    "one of the presets the spec's `rounding` setting names (keras, torchvision), for where the reference implementations disagree: the head's width",
  convention:
    "the `convention` the spec names (keras, torchvision): the reference whose function the model computes (rounding, padding of strided windows, input preprocessing, batch norm, classifier activation); counts do not depend on it except for stored preprocessing statistics",
};

export interface AuditOptions {
  /** Batch sizes of the memory estimate; DEFAULT_BATCHES when absent. */
  readonly batches?: readonly number[];
  readonly optimizer?: OptimizerName;
}

const rule = (r: DimensionRule): AuditRule => ({ rule: describeRounding(r.rule), fixedStages: [...r.fixedStages] });

/** How the baseline is screened: as Costing.totals does (past the size limits allowed, learnable or not). */
const baselineScreen = { allowHuge: true, learnable: false } as const;

function auditNetwork(spec: Spec, costing: Costing): AuditNetwork {
  const c = spec.scaling.compound;
  const constraint = c?.constraint;
  const value = c && constraint ? constraintValue(c, constraint.exponents) : 0;
  return {
    name: spec.name,
    input: spec.input,
    classes: spec.classes,
    activation: spec.activation,
    squeezeExcite: spec.seRatio,
    batchNorm: spec.batchNorm,
    dropout: spec.dropout,
    dropConnect: spec.dropConnect,
    scaling: {
      depth: rule(spec.scaling.depth),
      width: rule(spec.scaling.width),
      resolution: rule(spec.scaling.resolution),
      compound: c
        ? {
            alpha: c.alpha,
            beta: c.beta,
            gamma: c.gamma,
            constraint: constraint
              ? {
                  expression: constraintText(constraint.exponents),
                  value,
                  target: constraint.target,
                  tolerance: constraint.tolerance ?? null,
                  distance: value - constraint.target,
                }
              : null,
          }
        : null,
    },
    stages: spec.stages.map((s) => ({
      stage: s.index,
      operator: s.operator.print(s.params),
      resolution: [s.resolution.height, s.resolution.width],
      channels: s.channels,
      layers: s.layers,
      stride: s.stride,
    })),
    convention: {
      name: spec.convention,
      source: CONVENTION_TABLE[spec.convention].source,
      padding: PADDING_RULES[spec.padding].summary,
      preprocessing: PREPROCESSING[spec.preprocessing].summary,
      classifier: spec.classifierActivation === "linear" ? "logits" : "softmax",
    },
    rounding: {
      preset: spec.rounding,
      source: ROUNDING_PRESETS[spec.rounding].source,
      alternatives: presetNames().filter((p) => p !== spec.rounding),
    },
    baseline: (() => {
      const c = baselineCoefficients(spec);
      const baseCost = costing.totals(c);
      return { ...c, params: baseCost.params, macs: baseCost.macs };
    })(),
  };
}

const presetNames = () => Object.keys(ROUNDING_PRESETS) as RoundingPresetName[];

function reported(value: number | undefined, counted: number): Reported | null {
  return value === undefined
    ? null
    : { reported: value, counted, difference: counted - value, relative: (counted - value) / value };
}

export function auditVariant(
  v: CompiledVariant,
  costing: Costing = new Costing(v.scaled.spec),
  options: AuditOptions = {},
): AuditVariant {
  const { variant, cost, scaled } = v;
  const spec = scaled.spec;
  const stageCost = new Map(cost.stages.map((s) => [s.stage, s]));
  const layers = auditLayers(v);
  return {
    name: variant.name,
    source: variant.phi === undefined ? "explicit" : "phi",
    phi: variant.phi ?? null,
    width: variant.width,
    depth: variant.depth,
    resolution: variant.resolution,
    dropout: variant.dropout,
    params: cost.params,
    macs: cost.macs,
    flops: cost.flops,
    elementwise: cost.elementwise,
    memory: cost.memory,
    reported: {
      params: reported(variant.reported.params, cost.params.total),
      macs: reported(variant.reported.macs, cost.macs),
    },
    stages: scaled.stages.map((s) => {
      const c = stageCost.get(s.stage.index);
      return {
        stage: s.stage.index,
        operator: s.stage.operator.print(s.stage.params),
        channels: s.channels.value,
        channelsProvenance: s.channels.provenance,
        layers: s.layers.value,
        layersProvenance: s.layers.provenance,
        stride: s.stage.stride,
        inputResolution: [s.inputResolution.height, s.inputResolution.width],
        outputResolution: [s.outputResolution.height, s.outputResolution.width],
        params: c?.params ?? { total: 0, trainable: 0, nonTrainable: 0 },
        macs: c?.macs ?? 0,
        elementwise: c?.elementwise ?? 0,
        macsShare: cost.macs ? (c?.macs ?? 0) / cost.macs : 0,
        ...stageBlocks(
          layers.filter((l) => l.stage === s.stage.index),
          s.stage.operator.print(s.stage.params),
        ),
      };
    }),
    layers,
    compound: compoundAudit(spec, variant, costing),
    memoryByBatch: memoryByBatch(v.ir, cost, options.batches ?? DEFAULT_BATCHES, options.optimizer),
    roundingPresets: presetNames()
      .filter((p) => p !== spec.rounding)
      .map((preset) => comparePreset(v, preset, costing)),
    summarySizes: summarySizes(v),
  };
}

const KERNEL_OF = (layer: Layer): { kernel: number | null; strides: number | null } => {
  switch (layer.kind) {
    case "conv2d":
    case "depthwiseConv2d":
      return { kernel: layer.attrs.kernel, strides: layer.attrs.strides };
    case "maxPool":
      return { kernel: layer.attrs.pool, strides: layer.attrs.strides };
    default:
      return { kernel: null, strides: null };
  }
};

function auditLayers(v: CompiledVariant): AuditLayer[] {
  const shapes = new Map(v.ir.layers.map((l) => [l.name, l.outputShape]));
  // cost() walks the IR in order, so cost.layers[i] is ir.layers[i].
  return v.cost.layers.map((l, i) => {
    const layer = v.ir.layers[i];
    return {
      name: l.name,
      kind: l.kind,
      stage: l.stage,
      outputShape: [...l.outputShape],
      params: l.params,
      macs: l.macs,
      elementwise: l.elementwise,
      className: KERAS_CLASS[l.kind],
      block: layer.block,
      inputs: [...layer.inputs],
      inputShapes: layer.inputs.map((n) => [...shapes.get(n)!]),
      ...KERNEL_OF(layer),
      activationBytes: l.outputBytes,
    };
  });
}

const sumParams = (ls: readonly AuditLayer[]): ParamCount => ({
  total: ls.reduce((a, l) => a + l.params.total, 0),
  trainable: ls.reduce((a, l) => a + l.params.trainable, 0),
  nonTrainable: ls.reduce((a, l) => a + l.params.nonTrainable, 0),
});

/** A stage's layers grouped by block (the operator's repeats), with subtotals. */
function stageBlocks(ls: readonly AuditLayer[], operator: string): Pick<AuditStage, "activationBytes" | "blocks"> {
  const byBlock = new Map<number, AuditLayer[]>();
  for (const l of ls) byBlock.set(l.block, [...(byBlock.get(l.block) ?? []), l]);
  const blocks = [...byBlock.entries()].map(([block, group], _, all): AuditBlock => {
    const names = group.map((l) => l.name);
    return {
      block,
      name: commonPrefix(names) || (all.length === 1 ? operator : `${operator} #${block + 1}`),
      layers: names,
      params: sumParams(group),
      macs: group.reduce((a, l) => a + l.macs, 0),
      activationBytes: group.reduce((a, l) => a + l.activationBytes, 0),
    };
  });
  return { activationBytes: ls.reduce((a, l) => a + l.activationBytes, 0), blocks };
}

/** `block2a_expand_conv`, `block2a_se_reduce` → `block2a`: the prefix up to the last shared `_`. */
function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? "";
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  if (names.length === 1) return prefix;
  const cut = prefix.lastIndexOf("_");
  return cut > 0 ? prefix.slice(0, cut) : "";
}

function summarySizes(v: CompiledVariant): AuditSummarySizes {
  const inputBytes = elements(v.ir.inputShape) * BYTES_PER_FLOAT;
  const forwardBackwardBytes = v.cost.layers.reduce((a, l) => a + (l.params.total > 0 ? 2 * l.outputBytes : 0), 0);
  const paramBytes = v.cost.memory.paramBytes;
  return { inputBytes, forwardBackwardBytes, paramBytes, totalBytes: inputBytes + forwardBackwardBytes + paramBytes };
}

function comparePreset(v: CompiledVariant, preset: RoundingPresetName, costing: Costing): AuditPresetComparison {
  const spec = { ...v.scaled.spec, rounding: preset };
  const otherShape = scaledShape(spec, v.variant.width, v.variant.depth, v.variant.resolution);
  const differences = v.scaled.stages
    .map((s, i) => ({
      stage: s.stage.index,
      channels: [s.channels.value, otherShape.channels[i]] as const,
      layers: [s.layers.value, otherShape.layers[i]] as const,
    }))
    .filter((d) => d.channels[0] !== d.channels[1] || d.layers[0] !== d.layers[1]);
  const same = { preset, sameShape: true, differences, params: v.cost.params, macs: v.cost.macs, refused: null };
  if (differences.length === 0) return same;
  // The other preset may round a stage this one keeps down to nothing, or past a limit.
  const other = costing.screen(v.variant, { allowHuge: true, spec, learnable: false });
  return other.ok
    ? { ...same, sameShape: false, params: other.totals.params, macs: other.totals.macs }
    : { ...same, sameShape: false, params: null, macs: null, refused: `${other.code}: ${other.why}` };
}

function auditBudgets(spec: Spec, variants: readonly CompiledVariant[], compilation: Compilation): AuditBudget[] {
  return spec.budgets.map((b) => ({
    metric: b.metric,
    limit: b.limit,
    variant: b.variant ?? null,
    line: positionAt(compilation.file, b.span.start).line,
    checks: variants
      .filter((v) => b.variant === undefined || b.variant === v.variant.name)
      .map((v) => {
        const value = metricValue(b.metric, v.cost);
        return { variant: v.variant.name, value, fits: value <= b.limit, headroom: b.limit - value };
      }),
  }));
}

export function auditDiagnostic(d: Diagnostic, compilation: Compilation): AuditDiagnostic {
  const pos = d.span ? positionAt(compilation.file, d.span.start) : undefined;
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: compilation.file.path,
    line: pos?.line ?? null,
    column: pos?.column ?? null,
    help: d.help ?? null,
  };
}

/**
 * Variants are reported when their numbers are sound: no errors, or only budget
 * overruns (EFF4001), which are verdicts on correct numbers that the report shows.
 */
export function costsAreSound(compilation: Compilation): boolean {
  return (
    compilation.spec !== undefined &&
    compilation.diagnostics.every((d) => d.severity !== "error" || d.code === "EFF4001")
  );
}

export function audit(compilation: Compilation, options: AuditOptions = {}): AuditDocument {
  const spec = compilation.spec;
  const sound = costsAreSound(compilation);
  const costing = spec ? new Costing(spec) : undefined;
  const variants = sound ? compilation.variants : [];
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    source: compilation.file.path,
    conventions: CONVENTIONS,
    memorySettings: memorySettings(options),
    // The stage table as written may itself be past the build limits (a stage of 10⁷ layers, EFF3003 at every
    // variant): then there is no baseline to cost, and no network section.
    network:
      spec && costing && costing.screen(baselineCoefficients(spec), baselineScreen).ok
        ? auditNetwork(spec, costing)
        : null,
    variants: variants.map((v) => auditVariant(v, costing, options)),
    budgets: spec && sound ? auditBudgets(spec, variants, compilation) : [],
    diagnostics: compilation.diagnostics.map((d) => auditDiagnostic(d, compilation)),
  };
}

function memorySettings(options: AuditOptions): AuditDocument["memorySettings"] {
  const optimizer = options.optimizer ?? DEFAULT_OPTIMIZER;
  return {
    batches: [...(options.batches ?? DEFAULT_BATCHES)],
    optimizer,
    optimizerState: OPTIMIZERS[optimizer].description,
  };
}

/** The document for a file that could not even be read: its diagnostics and nothing else. */
export function unreadableAudit(
  path: string,
  diagnostics: readonly Diagnostic[],
  options: AuditOptions = {},
): AuditDocument {
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    source: path,
    conventions: CONVENTIONS,
    memorySettings: memorySettings(options),
    network: null,
    variants: [],
    budgets: [],
    diagnostics: diagnostics.map((d) => ({
      code: d.code,
      severity: d.severity,
      message: d.message,
      file: path,
      line: null,
      column: null,
      help: d.help ?? null,
    })),
  };
}
