import type { SizeProblem } from "../diagnostics/codes.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { SIZE_LIMITS } from "../scaling/scale.ts";
import type { Budget, Variant } from "../semantics/spec.ts";
import { BUDGET_METRICS, metricValue } from "../vocabulary/budgets.ts";
import type { CostTotals } from "./totals.ts";
import { formatCount, withCommas } from "./units.ts";

/** One measure past its SIZE_LIMITS entry, as EFF3001 prints it (src/report/hypothetical.ts screens by it too). */
export function sizeProblem(measure: "tfjsLayers" | "params" | "macs", value: number): SizeProblem {
  // Layers are counted one by one (`5,717`), like the stage table's; sizes in SI units (`1.2G`).
  const format = measure === "tfjsLayers" ? withCommas : formatCount;
  return { measure, value: format(value), limit: format(SIZE_LIMITS[measure]) };
}

/** `budget macs <= 40G`: every variant (or the named one) is held to it. */
export function checkBudgets(budgets: readonly Budget[], variant: Variant, cost: CostTotals): Diagnostic[] {
  return budgets
    .filter((b) => (b.variant === undefined || b.variant === variant.name) && metricValue(b.metric, cost) > b.limit)
    .map((b) =>
      diagnostic(
        "EFF4001",
        {
          variant: variant.name,
          metric: BUDGET_METRICS[b.metric].noun,
          value: formatCount(metricValue(b.metric, cost)),
          limit: formatCount(b.limit),
        },
        b.span,
        {
          label: "this budget",
        },
      ),
    );
}

/**
 * The second half of the size guard: parameters and MACs, known only after costing, and
 * the generated model's layers, known after lowering (`tfjsLayers`, or undefined when the
 * caller has shown them under the limit without lowering: src/compile.ts).
 */
export function checkSizeLimits(variant: Variant, cost: CostTotals, tfjsLayers?: number): Diagnostic[] {
  const values = { params: cost.params.total, macs: cost.macs, tfjsLayers: tfjsLayers ?? 0 };
  const problems = (["tfjsLayers", "params", "macs"] as const)
    .filter((measure) => values[measure] > SIZE_LIMITS[measure])
    .map((measure) => sizeProblem(measure, values[measure]));
  return problems.length
    ? [
        diagnostic("EFF3001", { variant: variant.name, problems }, variant.span, {
          help: "pass --allow-huge if you mean it",
        }),
      ]
    : [];
}

/**
 * A variant with no trainable parameter (a stage table of pooling only) costs nothing and
 * can learn nothing: every report of it would divide by zero and its model would not train.
 */
export function checkLearnable(variant: Variant, cost: CostTotals): Diagnostic[] {
  return cost.params.trainable > 0
    ? []
    : [
        diagnostic("EFF4002", { variant: variant.name }, variant.span, {
          help: "a network needs a convolution or a dense layer, e.g. a `Conv3x3` stem or a `Conv1x1 & Pooling & FC` head",
        }),
      ];
}

/**
 * A variant whose resolution leaves a stage no pixels (CostTotals.emptyStage): its counts
 * would be of a network that cannot run (Keras refuses MobileNet below 32 px for this).
 */
export function checkPixels(variant: Variant, cost: CostTotals): Diagnostic[] {
  return cost.emptyStage === undefined
    ? []
    : [
        diagnostic(
          "EFF3006",
          { variant: variant.name, stage: cost.emptyStage, resolution: `${variant.resolution}×${variant.resolution}` },
          variant.span,
          {
            help: "a larger resolution (Keras builds MobileNet from 32 px up), or a padding rule that keeps every window on the map",
          },
        ),
      ];
}
