import type { Span } from "../diagnostics/source.ts";
import type { BudgetMetric } from "../vocabulary/budgets.ts";
import type { OperatorDef, OperatorParams } from "../operators/table.ts";
import type { Activation } from "../vocabulary/activations.ts";
import type { RoundingPresetName, RoundingRule } from "../vocabulary/rounding.ts";
import type { Convention, ConventionName, PaddingRuleName, PreprocessingName } from "../vocabulary/conventions.ts";

/** The checked spec: every default filled in, every number validated, spans kept for later phases' diagnostics. */
export interface Spec {
  readonly name: string;
  readonly nameSpan: Span;
  readonly input: { readonly height: number; readonly width: number; readonly channels: number };
  readonly inputSpan: Span;
  readonly classes: number;
  readonly activation: Activation;
  readonly seRatio: number;
  readonly batchNorm: { readonly momentum: number; readonly epsilon: number };
  readonly dropout: number;
  readonly dropConnect: number;
  readonly stages: readonly Stage[];
  readonly scaling: Scaling;
  /** `convention keras|torchvision` (src/vocabulary/conventions.ts): the fields below come from it unless a setting overrides one. */
  readonly convention: ConventionName;
  /** `rounding keras|torchvision`: where the reference implementations disagree (src/vocabulary/rounding.ts, ROUNDING_PRESETS). */
  readonly rounding: RoundingPresetName;
  readonly padding: PaddingRuleName;
  /** `preprocessing keras|torchvision|none`. */
  readonly preprocessing: PreprocessingName;
  readonly classifierActivation: Convention["classifierActivation"];
  readonly variants: readonly Variant[];
  readonly budgets: readonly Budget[];
}

export interface Stage {
  /** 1-based, the row's position in the stage table (Table 1's "Stage i"). */
  readonly index: number;
  readonly operator: OperatorDef;
  readonly params: OperatorParams;
  /** The stage's input resolution, as the table prints it. */
  readonly resolution: { readonly height: number; readonly width: number };
  readonly channels: number;
  readonly layers: number;
  /** Inferred from this row's resolution and the next one's (Table 1's convention). */
  readonly stride: number;
  /** The columns a variant's overrides set in this row (src/semantics/overrides.ts); absent in the spec's own table. */
  readonly overridden?: readonly string[];
  readonly spans: {
    readonly row: Span;
    readonly operator: Span;
    readonly resolution: Span;
    readonly channels: Span;
    readonly layers: Span;
  };
}

export interface DimensionRule {
  readonly rule: RoundingRule;
  /** Stages (1-based) that this dimension does not scale. */
  readonly fixedStages: readonly number[];
  /** Stem stages depth scaling repeats anyway (`scale stages 1`); the stem is otherwise fixed. */
  readonly scaledStages?: readonly number[];
  readonly span?: Span;
}

export interface Scaling {
  readonly depth: DimensionRule;
  readonly width: DimensionRule;
  readonly resolution: DimensionRule;
  /** α, β, γ of the compound rule, when the spec declares `scaling compound`. */
  readonly compound?: {
    readonly alpha: number;
    readonly beta: number;
    readonly gamma: number;
    readonly constraint?: {
      readonly exponents: { readonly alpha: number; readonly beta: number; readonly gamma: number };
      readonly target: number;
      readonly tolerance?: number;
      readonly span: Span;
    };
  };
  readonly span?: Span;
}

export interface Variant {
  readonly name: string;
  readonly span: Span;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  /** Set for variants derived from φ, whose width, depth and resolution come from α^φ, β^φ, γ^φ. */
  readonly phi?: number;
  /** Figures the spec cites (e.g. the paper's Table 2), for comparison in reports. */
  readonly reported: { readonly params?: number; readonly macs?: number };
  /**
   * The variant's own stage table, where the `overrides` table sets some of its cells
   * (ResNet-18's BasicBlocks, EfficientNetV2-M's layers); absent: the spec's.
   */
  readonly stages?: readonly Stage[];
}

export type { BudgetMetric };

export interface Budget {
  readonly metric: BudgetMetric;
  readonly limit: number;
  /** Only this variant; all variants when absent. */
  readonly variant?: string;
  readonly span: Span;
}
