import type { Compilation, CompiledVariant } from "../compile.ts";
import type { ParamCount } from "../cost/cost.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { positionAt } from "../diagnostics/source.ts";
import { describeRounding } from "../scaling/rounding.ts";
import { constraintText, constraintValue } from "../semantics/scaling.ts";
import type { DimensionRule, Spec } from "../semantics/spec.ts";

/**
 * The audit as data: what `effnet audit --json` prints and every report format renders.
 * Plain JSON values only, no timestamps, so it diffs cleanly and is byte-for-byte
 * reproducible.
 */
export interface AuditDocument {
  readonly source: string;
  readonly conventions: Readonly<Record<"macs" | "flops" | "elementwise" | "params" | "memory", string>>;
  readonly network: AuditNetwork | null;
  readonly variants: readonly AuditVariant[];
  readonly diagnostics: readonly AuditDiagnostic[];
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
      readonly constraint: null | { readonly expression: string; readonly value: number; readonly target: number; readonly tolerance: number | null; readonly distance: number };
    };
  };
  readonly stages: readonly { readonly stage: number; readonly operator: string; readonly resolution: readonly [number, number]; readonly channels: number; readonly layers: number; readonly stride: number }[];
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
  readonly memory: { readonly paramBytes: number; readonly activationBytesPeak: number; readonly activationBytesTotal: number };
  readonly reported: { readonly params: Reported | null; readonly macs: Reported | null };
  readonly stages: readonly AuditStage[];
  readonly layers: readonly AuditLayer[];
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
  macs: "multiply-accumulates of convolutions (SE 1x1 included) and dense layers, batch 1: the paper's \"FLOPS\"",
  flops: "2 × MACs",
  elementwise: "one per output element of batch norm, activations, SE scaling, residual adds, bias adds; one per input element of pooling; not in MACs",
  params: "trainable = kernels, biases, BN gamma and beta; non-trainable = BN moving mean and variance",
  memory: "float32 (4 bytes), batch 1; activation peak = largest set of live layer outputs in topological order",
};

const rule = (r: DimensionRule): AuditRule => ({ rule: describeRounding(r.rule), fixedStages: [...r.fixedStages] });

function auditNetwork(spec: Spec): AuditNetwork {
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
              ? { expression: constraintText(constraint.exponents), value, target: constraint.target, tolerance: constraint.tolerance ?? null, distance: value - constraint.target }
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
  };
}

function reported(value: number | undefined, counted: number): Reported | null {
  return value === undefined ? null : { reported: value, counted, difference: counted - value, relative: (counted - value) / value };
}

export function auditVariant(v: CompiledVariant): AuditVariant {
  const { variant, cost, scaled } = v;
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
    reported: { params: reported(variant.reported.params, cost.params.total), macs: reported(variant.reported.macs, cost.macs) },
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
    layers: cost.layers.map((l) => ({ name: l.name, kind: l.kind, stage: l.stage, outputShape: [...l.outputShape], params: l.params, macs: l.macs, elementwise: l.elementwise })),
  };
}

export function auditDiagnostic(d: Diagnostic, compilation: Compilation): AuditDiagnostic {
  const pos = d.span ? positionAt(compilation.file, d.span.start) : undefined;
  return { code: d.code, severity: d.severity, message: d.message, file: compilation.file.path, line: pos?.line ?? null, column: pos?.column ?? null, help: d.help ?? null };
}

export function audit(compilation: Compilation): AuditDocument {
  return {
    source: compilation.file.path,
    conventions: CONVENTIONS,
    network: compilation.spec ? auditNetwork(compilation.spec) : null,
    variants: compilation.ok ? compilation.variants.map(auditVariant) : [],
    diagnostics: compilation.diagnostics.map((d) => auditDiagnostic(d, compilation)),
  };
}
