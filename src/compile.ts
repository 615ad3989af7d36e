import { cost, type NetworkCost } from "./cost/cost.ts";
import { checkBudgets, checkLearnable, checkPixels, checkSizeLimits } from "./cost/budgets.ts";
import { closedFormCovers, networkTotals, type CostTotals } from "./cost/totals.ts";
import { diagnostic, hasErrors, sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.ts";
import type { SourceFile } from "./diagnostics/source.ts";
import { lower } from "./lowering/lower.ts";
import type { NetworkIR } from "./ir/ir.ts";
import { BUILD_LIMITS, scale, scaledShape, SIZE_LIMITS, sizeProblems, type ScaledNetwork } from "./scaling/scale.ts";
import { check } from "./semantics/check.ts";
import type { Spec, Variant } from "./semantics/spec.ts";
import type { ConventionName } from "./vocabulary/conventions.ts";
import type { Document } from "./syntax/ast.ts";
import { parse } from "./syntax/parse.ts";

/**
 * The whole pipeline on one screen:
 *
 *   text ─parse→ syntax tree ─check→ spec ─scale→ scaled stage table ─lower→ layer IR ─cost→ costs
 *
 * Each phase is a pure function of the previous phase's value and returns its
 * diagnostics; a phase with errors stops the pipeline, so later phases never see (and
 * never report cascades of) broken input. Reports and code generators start from the
 * returned compilation.
 */
export interface CompiledVariant {
  readonly variant: Variant;
  readonly scaled: ScaledNetwork;
  readonly ir: NetworkIR;
  readonly cost: NetworkCost;
}

export interface Compilation {
  readonly file: SourceFile;
  readonly document?: Document;
  readonly spec?: Spec;
  readonly variants: readonly CompiledVariant[];
  /** Sorted by position; errors mean `spec`/`variants` are incomplete and must not be used. */
  readonly diagnostics: readonly Diagnostic[];
  readonly ok: boolean;
}

export interface CompileOptions {
  /** Only these variants (by name); all when absent. */
  readonly variants?: readonly string[];
  /** Build variants beyond the size limits (src/scaling/scale.ts, SIZE_LIMITS). */
  readonly allowHuge?: boolean;
  /** Stop after checking: no scaling, lowering or costing. */
  readonly checkOnly?: boolean;
  /** Build under this convention whatever the spec declares (src/vocabulary/conventions.ts). */
  readonly convention?: ConventionName;
  /**
   * Every diagnostic, but no layers where the operators' closed forms cover the spec
   * (src/cost/totals.ts, exact against the IR): `variants` comes back empty. `effnet check`
   * runs this way, so it does not lower and cost every variant only to throw the layers away.
   */
  readonly diagnosticsOnly?: boolean;
}

export function compile(file: SourceFile, options: CompileOptions = {}): Compilation {
  const done = (diagnostics: Diagnostic[], rest: Partial<Compilation> = {}): Compilation => ({
    file,
    variants: [],
    ...rest,
    diagnostics: sortDiagnostics(diagnostics),
    ok: !hasErrors(diagnostics),
  });

  const parsed = parse(file);
  if (hasErrors(parsed.diagnostics)) return done([...parsed.diagnostics], { document: parsed.document });

  const checked = check(parsed.document, { convention: options.convention });
  const diagnostics = [...parsed.diagnostics, ...checked.diagnostics];
  const spec = checked.spec;
  if (!spec || hasErrors(diagnostics)) return done(diagnostics, { document: parsed.document });
  if (options.checkOnly) return done(diagnostics, { document: parsed.document, spec });

  const baseline = checkBaseline(spec);
  if (baseline) return done([...diagnostics, baseline], { document: parsed.document, spec });

  const selected = selectVariants(spec, options.variants, diagnostics);
  const variants: CompiledVariant[] = [];
  if (options.diagnosticsOnly) {
    for (const variant of selected) diagnostics.push(...variantDiagnostics(spec, variant, options));
    return done(diagnostics, { document: parsed.document, spec });
  }
  for (const variant of selected) {
    const built = buildVariant(spec, variant, options);
    diagnostics.push(...built.diagnostics);
    if (built.compiled) variants.push(built.compiled);
  }
  return done(diagnostics, { document: parsed.document, spec, variants });
}

/**
 * The stage table as written (width 1, depth 1, the input resolution) must itself be
 * buildable: every audit costs it (the compound audit's denominator), so a stage of 10⁷
 * layers is EFF3004 at that stage's Layers cell, checked from the numbers before anything
 * is built, even when a variant scales it down to a buildable size.
 */
function checkBaseline(spec: Spec): Diagnostic | undefined {
  const shape = scaledShape(spec, 1, 1, spec.input.height);
  const problems = sizeProblems(spec, shape, BUILD_LIMITS);
  if (problems.length === 0) return undefined;
  // Point at the cell that makes it too large: the most layers, else the widest layer, else the input.
  const widest = (i: number) => shape.channels[i] * Math.max(1, spec.stages[i].params.expand);
  const most = (size: (i: number) => number) => spec.stages.reduce((a, s, i) => (size(i) > size(a) ? i : a), 0);
  const span =
    shape.layers.reduce((n, l) => n + l, 0) > BUILD_LIMITS.layers
      ? spec.stages[most((i) => shape.layers[i])].spans.layers
      : widest(most(widest)) > BUILD_LIMITS.channels
        ? spec.stages[most(widest)].spans.channels
        : spec.stages[0].spans.resolution;
  return diagnostic("EFF3004", { problems }, span, {
    help: "write the baseline network in the stage table and let variants scale it",
  });
}

export interface BuildOptions {
  /** Build past the size limits (SIZE_LIMITS), never past the build limits (EFF3003). */
  readonly allowHuge?: boolean;
  /**
   * Lowered and costed networks by shape (src/report/hypothetical.ts, Costing): what-if
   * networks of one spec share them, since rounding maps many coefficients onto one network.
   */
  readonly cache?: Map<string, { readonly ir: NetworkIR; readonly cost: NetworkCost }>;
}

/** The shape of a scaled network, as a key: equal keys mean equal layers, hence equal IRs and costs. */
export function shapeKey(network: ScaledNetwork): string {
  const stages = network.stages.map((s) => `${s.channels.value}/${s.layers.value}`).join(",");
  return `${network.spec.rounding}|${network.variant.dropout}|${network.input.height}x${network.input.width}|${stages}`;
}

/**
 * The one variant pipeline: scale (size limits EFF3001 and EFF3003, degenerate stages
 * EFF3002) → lower → cost → size limits on parameters and MACs (EFF3001), the learnable
 * check (EFF4002) and the spec's budgets (EFF4001). `compile`, the reports' what-if
 * networks, `solve` and `search` all build variants through it, so they share its guards.
 * `compiled` is absent when a limit refused the variant (budgets only warn the caller).
 */
export function buildVariant(
  spec: Spec,
  variant: Variant,
  options: BuildOptions = {},
): { compiled?: CompiledVariant; diagnostics: Diagnostic[] } {
  const scaled = scale(spec, variant, options);
  if (!scaled.network) return { diagnostics: scaled.diagnostics };
  const key = options.cache && shapeKey(scaled.network);
  let built = key === undefined ? undefined : options.cache!.get(key);
  if (!built) {
    const ir = lower(scaled.network);
    built = { ir, cost: cost(ir) };
    if (key !== undefined) options.cache!.set(key, built);
  }
  const limits = costLimits(variant, built.cost, options, built.ir.layers.length);
  const diagnostics = [...scaled.diagnostics, ...limits, ...checkBudgets(spec.budgets, variant, built.cost)];
  return limits.length
    ? { diagnostics }
    : { compiled: { variant, scaled: scaled.network, ir: built.ir, cost: built.cost }, diagnostics };
}

/**
 * buildVariant's diagnostics, from the closed-form totals where they cover the variant's own
 * stage table (its overrides may use an operator without one), else from its layers.
 */
function variantDiagnostics(spec: Spec, variant: Variant, options: BuildOptions): Diagnostic[] {
  const scaled = scale(spec, variant, options);
  if (!scaled.network) return scaled.diagnostics;
  const network = scaled.network;
  // The model's layers need lowering, unless so few blocks cannot make too many of them.
  const blocks = network.stages.reduce((n, s) => n + s.layers.value, 0);
  const ir = !closedFormCovers(network.spec) || mayBeTooDeep(blocks) ? lower(network) : undefined;
  const totals = ir ? cost(ir) : networkTotals(network);
  return [
    ...scaled.diagnostics,
    ...costLimits(variant, totals, options, ir?.layers.length),
    ...checkBudgets(spec.budgets, variant, totals),
  ];
}

/**
 * A bound on the layers one block (a stage-table repeat) lowers to, stem and head included:
 * the most any shipped or fuzzed block has is 18 today (test/cost/tfjs-layer-limit.test.ts
 * holds every one to this bound). Under SIZE_LIMITS.tfjsLayers ÷ this many blocks, a
 * network cannot pass the tfjs-layer limit, and `check` need not lower it to know.
 */
export const MOST_LAYERS_PER_BLOCK = 24;
export const mayBeTooDeep = (blocks: number) => (blocks + 2) * MOST_LAYERS_PER_BLOCK > SIZE_LIMITS.tfjsLayers;

/** The limits that refuse a variant once its cost is known: size (EFF3001), learnability (EFF4002), pixels (EFF3006). */
const costLimits = (variant: Variant, totals: CostTotals, options: BuildOptions, tfjsLayers?: number): Diagnostic[] => [
  ...(options.allowHuge ? [] : checkSizeLimits(variant, totals, tfjsLayers)),
  ...checkLearnable(variant, totals),
  ...checkPixels(variant, totals),
];

function selectVariants(spec: Spec, names: readonly string[] | undefined, diagnostics: Diagnostic[]): Variant[] {
  if (!names?.length) return [...spec.variants];
  const known = spec.variants.map((v) => v.name);
  const selected: Variant[] = [];
  for (const name of names) {
    const variant = spec.variants.find((v) => v.name.toLowerCase() === name.toLowerCase());
    if (variant) selected.push(variant);
    else diagnostics.push(diagnostic("EFF0002", { name, known: known.map((k) => `\`${k}\``).join(", ") }));
  }
  return selected;
}
