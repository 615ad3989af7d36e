import type { Compilation, CompiledVariant } from "../compile.ts";
import type { NetworkCost, ParamCount } from "../cost/cost.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { positionAt } from "../diagnostics/source.ts";
import { describeRounding, ROUNDING_PRESETS, type RoundingPresetName } from "../scaling/rounding.ts";
import { constraintText, constraintValue } from "../semantics/scaling.ts";
import type { BudgetMetric, DimensionRule, Spec } from "../semantics/spec.ts";
import { baselineCoefficients, compoundAudit, type CompoundAudit } from "./compound.ts";
import { Costing } from "./hypothetical.ts";
import {
  DEFAULT_BATCHES,
  DEFAULT_OPTIMIZER,
  memoryAtBatch,
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
export const AUDIT_SCHEMA_VERSION = 2;

export interface AuditDocument {
  readonly schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  readonly source: string;
  readonly conventions: Readonly<
    Record<"macs" | "flops" | "elementwise" | "params" | "memory" | "memoryByBatch" | "compound" | "rounding", string>
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
  readonly memory: {
    readonly paramBytes: number;
    readonly activationBytesPeak: number;
    readonly activationBytesTotal: number;
  };
  readonly reported: { readonly params: Reported | null; readonly macs: Reported | null };
  readonly stages: readonly AuditStage[];
  readonly layers: readonly AuditLayer[];
  readonly compound: CompoundAudit | null;
  readonly memoryByBatch: readonly MemoryAtBatch[];
  readonly roundingPresets: readonly AuditPresetComparison[];
}

/** The same variant under another rounding preset (src/scaling/rounding.ts, ROUNDING_PRESETS). */
export interface AuditPresetComparison {
  readonly preset: RoundingPresetName;
  readonly sameShape: boolean;
  readonly differences: readonly {
    readonly stage: number;
    readonly channels: readonly [number, number];
    readonly layers: readonly [number, number];
  }[];
  readonly params: ParamCount;
  readonly macs: number;
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
}

export interface AuditLayer {
  readonly name: string;
  readonly kind: string;
  readonly stage: number;
  readonly outputShape: readonly number[];
  readonly params: ParamCount;
  readonly macs: number;
  readonly elementwise: number;
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
  params: "trainable = kernels, biases, BN gamma and beta; non-trainable = BN moving mean and variance",
  memory: "float32 (4 bytes), batch 1; activation peak = largest set of live layer outputs in topological order",
  memoryByBatch:
    "float32 bytes; inference = parameters + peak live activations × batch; training = effnet's training-memory estimate (src/cost/training.ts), what `effnet train` checks before it allocates: parameters + gradients (trainable) + optimizer state + what the trainer keeps for backpropagation × batch (per layer kind, the inputs or outputs its gradient reads) + the backward pass's working set + the wasm heap's overhead (initial 16 MiB, XNNPACK's packed filters, its growth step); measured against the trainer's peak by bench/memory.ts",
  compound:
    "log₂ units (doublings): deviation = log₂(MACs / baseline MACs) − φ, φ declared or implied by (α·β²·γ²)^φ = d·w²·(r/r₀)²; split per dimension by a Shapley decomposition (average over the 6 orders of switching depth, width, resolution from baseline to variant) minus each dimension's share of φ; the three contributions sum to the deviation",
  rounding:
    "one preset of src/scaling/rounding.ts (ROUNDING_PRESETS) for where the reference implementations disagree: the head's width",
};

export interface AuditOptions {
  /** Batch sizes of the memory estimate; DEFAULT_BATCHES when absent. */
  readonly batches?: readonly number[];
  readonly optimizer?: OptimizerName;
}

const rule = (r: DimensionRule): AuditRule => ({ rule: describeRounding(r.rule), fixedStages: [...r.fixedStages] });

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
    rounding: {
      preset: spec.rounding,
      source: ROUNDING_PRESETS[spec.rounding].source,
      alternatives: presetNames().filter((p) => p !== spec.rounding),
    },
    baseline: (() => {
      const c = baselineCoefficients(spec);
      const baseCost = costing.cost(c);
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
      };
    }),
    layers: cost.layers.map((l) => ({
      name: l.name,
      kind: l.kind,
      stage: l.stage,
      outputShape: [...l.outputShape],
      params: l.params,
      macs: l.macs,
      elementwise: l.elementwise,
    })),
    compound: compoundAudit(spec, variant, costing),
    memoryByBatch: (options.batches ?? DEFAULT_BATCHES).map((b) => memoryAtBatch(v.ir, cost, b, options.optimizer)),
    roundingPresets: presetNames()
      .filter((p) => p !== spec.rounding)
      .map((preset) => comparePreset(v, preset, costing)),
  };
}

function comparePreset(v: CompiledVariant, preset: RoundingPresetName, costing: Costing): AuditPresetComparison {
  const other = costing.scaled(v.variant, { allowHuge: true, spec: { ...v.scaled.spec, rounding: preset } })!;
  const differences = v.scaled.stages
    .map((s, i) => ({
      stage: s.stage.index,
      channels: [s.channels.value, other.stages[i].channels.value] as const,
      layers: [s.layers.value, other.stages[i].layers.value] as const,
    }))
    .filter((d) => d.channels[0] !== d.channels[1] || d.layers[0] !== d.layers[1]);
  const otherCost: NetworkCost = differences.length ? costing.costOf(other) : v.cost;
  return { preset, sameShape: differences.length === 0, differences, params: otherCost.params, macs: otherCost.macs };
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
        const value = { macs: v.cost.macs, flops: v.cost.flops, params: v.cost.params.total }[b.metric];
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
    network: spec && costing ? auditNetwork(spec, costing) : null,
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
