import { diagnostic, hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Span } from "../diagnostics/source.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import type { Activation } from "../vocabulary/activations.ts";
import { ACTIVATIONS, KERAS_SE_RULE, type SqueezeExciteRule } from "../operators/table.ts";
import { ROUNDING_PRESETS, type RoundingPresetName } from "../vocabulary/rounding.ts";
import { BUDGET_METRIC_NAMES } from "../vocabulary/budgets.ts";
import {
  CONVENTIONS,
  DEFAULT_CONVENTION,
  PADDING_RULES,
  PREPROCESSING,
  type ConventionName,
  type PaddingRuleName,
  type PreprocessingName,
} from "../vocabulary/conventions.ts";
import type { Document, Entry } from "../syntax/ast.ts";
import { checkScaling, phiCoefficients, REFERENCE_SCALING } from "./scaling.ts";
import type { Budget, BudgetMetric, Scaling, Spec, Stage, Variant } from "./spec.ts";
import { applyOverrides } from "./overrides.ts";
import { checkStages, isNotApplicable } from "./stages.ts";
import { readTable, type ColumnDef } from "./tables.ts";
import { ArgReader, numberValue } from "./values.ts";

export interface CheckResult {
  /** Present when there are no errors. */
  readonly spec?: Spec;
  readonly diagnostics: readonly Diagnostic[];
}

/** Names become file names and TypeScript identifiers in generated code: keep them plain. */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Variant names may also hold dots between the parts (`mobilenet_v2_1.0`, `0.75`-style widths as torchvision names them). */
export const VARIANT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;
/** A variant's generated file name stem (src/codegen/emit.ts moduleFileStem): lower case, dots as `_`. */
export const variantFileStem = (name: string) => name.toLowerCase().replace(/\./g, "_");

/** A mutable draft that the settings' readers fill in; frozen into a Spec at the end. */
interface Draft {
  input?: { height: number; width: number; channels: number; span: Span };
  classes?: number;
  activation: Activation;
  seRatio: number;
  seRule: SqueezeExciteRule;
  /** The convention, and the fields a setting of its own overrides (unset: the convention's). */
  convention: ConventionName;
  batchNorm: { momentum?: number; epsilon?: number };
  rounding?: RoundingPresetName;
  padding?: PaddingRuleName;
  preprocessing?: PreprocessingName;
  dropout: number;
  dropConnect: number;
  stagesEntry?: Entry;
  scalingEntry?: Entry;
  variantsEntry?: Entry;
  overridesEntry?: Entry;
  variantLines: Entry[];
  budgetLines: Entry[];
}

interface SettingDef {
  /** `value`: arguments on the line; `table`: a block of rows; `block`: a block of settings. */
  readonly form: "value" | "table" | "block";
  readonly required: boolean;
  readonly repeatable: boolean;
  readonly syntax: string;
  /** What it sets, for grammar/vocabulary.md, when the example alone does not say. */
  readonly summary?: string;
  readonly read: (entry: Entry, args: ArgReader, draft: Draft) => void;
}

const fraction = (x: number) => x >= 0 && x < 1;

/**
 * The one table of network settings: what may stand in `network NAME { … }`, its form,
 * and how its arguments are read. Defaults (in `newDraft`) are the EfficientNet paper's
 * (section 5.2) and the Keras reference's.
 */
export const NETWORK_SETTINGS: Readonly<Record<string, SettingDef>> = {
  input: {
    form: "value",
    required: true,
    repeatable: false,
    syntax: "input 224x224x3",
    read: (e, a, d) => {
      const atom = a.peek();
      const dims = atom?.kind === "shape" ? atom.text.split(/[x×]/).map(Number) : [];
      if (dims.length !== 3 || dims.some((x) => !(x > 0))) return void a.fail("a shape `HxWxC`, e.g. `224x224x3`");
      a.next();
      d.input = { height: dims[0], width: dims[1], channels: dims[2], span: atom!.span };
    },
  },
  classes: {
    form: "value",
    required: true,
    repeatable: false,
    syntax: "classes 1000",
    read: (e, a, d) => void (d.classes = a.expectInteger("a positive whole number of classes") ?? d.classes),
  },
  activation: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "activation swish",
    read: (e, a, d) => {
      const name = a.expectName(`an activation: ${ACTIVATIONS.join(", ")}`, ACTIVATIONS);
      if (name) d.activation = name.text.toLowerCase() as Activation;
    },
  },
  squeeze_excite: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "squeeze_excite 0.25",
    summary:
      "the SE ratio, then optionally its rule: `of input|expanded` (whose channels; default input), `divisor N` (round to a multiple of N as torchvision's _make_divisible; default 1: floor), `activation NAME` (the reduce conv's; default the block's), `gate NAME` (default sigmoid); MobileNetV3: `squeeze_excite 0.25 of expanded divisor 8 activation relu gate hardsigmoid`",
    read: (e, a, d) => {
      const ratio = a.expectNumber(
        "a ratio from 0 (none) to 1 of each block's input channels",
        (x) => x >= 0 && x <= 1,
      );
      if (ratio === undefined) return;
      d.seRatio = ratio;
      let rule: { -readonly [K in keyof SqueezeExciteRule]: SqueezeExciteRule[K] } = { ...KERAS_SE_RULE };
      while (!a.done) {
        const key = a.expectName("`of`, `divisor`, `activation` or `gate`", ["of", "divisor", "activation", "gate"]);
        if (!key) return;
        const k = key.text.toLowerCase();
        if (k === "of") {
          const of = a.expectName("`input` or `expanded`", ["input", "expanded"]);
          if (!of) return;
          rule.of = of.text.toLowerCase() as SqueezeExciteRule["of"];
        } else if (k === "divisor") {
          const n = a.expectInteger("a positive whole divisor");
          if (n === undefined) return;
          rule.divisor = n;
        } else {
          const name = a.expectName(`an activation: ${ACTIVATIONS.join(", ")}`, ACTIVATIONS);
          if (!name) return;
          rule = { ...rule, [k]: name.text.toLowerCase() as Activation };
        }
      }
      d.seRule = rule;
    },
  },
  batch_norm: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "batch_norm momentum 0.99 epsilon 1e-3",
    summary: "batch norm's Keras-style momentum and epsilon (default: the convention's)",
    read: (e, a, d) => {
      while (!a.done) {
        const key = a.expectName("`momentum` or `epsilon`", ["momentum", "epsilon"]);
        if (!key) return;
        const value = a.expectNumber(
          key.text === "momentum" ? "a momentum in [0, 1)" : "a small positive epsilon",
          key.text === "momentum" ? fraction : (x) => x > 0,
        );
        if (value === undefined) return;
        d.batchNorm = { ...d.batchNorm, [key.text.toLowerCase()]: value };
      }
    },
  },
  dropout: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "dropout 0.2",
    read: (e, a, d) => void (d.dropout = a.expectNumber("a rate in [0, 1)", fraction) ?? d.dropout),
  },
  drop_connect: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "drop_connect 0.2",
    read: (e, a, d) => void (d.dropConnect = a.expectNumber("a rate in [0, 1)", fraction) ?? d.dropConnect),
  },
  stages: {
    form: "table",
    required: true,
    repeatable: false,
    syntax: "stages { | Stage | Operator | … | }",
    summary:
      "the stage table (Table 1): one row per stage, each row's resolution its input's; Layers 0 leaves a stage of stride 1 out (a variant's overrides may give it layers)",
    read: (e, a, d) => void (d.stagesEntry = e),
  },
  scaling: {
    form: "block",
    required: false,
    repeatable: false,
    syntax: "scaling compound { … }",
    read: (e, a, d) => void (d.scalingEntry = e),
  },
  variants: {
    form: "table",
    required: false,
    repeatable: false,
    syntax: "variants { | Name | Width | Depth | Resolution | Dropout | }",
    read: (e, a, d) => void (d.variantsEntry = e),
  },
  overrides: {
    form: "table",
    required: false,
    repeatable: false,
    syntax: "overrides { | Variant | Stages | Operator | Channels | Layers | }",
    summary:
      "per-variant stage overrides: each row sets, for one variant and the listed stages (`3, 4, 5, 6`), the stage table's own columns (one value per stage, or one for all; `-` keeps the table's); Layers 0 leaves a stride-1 stage out. The variant's table is checked as the spec's, and an override may not be scaled by its variant (Depth 1 for Layers, Width 1 for Channels) unless the stage is fixed",
    read: (e, a, d) => void (d.overridesEntry = e),
  },
  variant: {
    form: "value",
    required: false,
    repeatable: true,
    syntax: "variant B8 phi 8 [dropout 0.5]",
    read: (e, a, d) => void d.variantLines.push(e),
  },
  convention: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "convention torchvision",
    summary: `the reference whose function the model computes: ${Object.keys(CONVENTIONS).join(", ")} (default ${DEFAULT_CONVENTION}); sets rounding, padding, preprocessing, batch norm and the classifier's activation together (src/vocabulary/conventions.ts)`,
    read: (e, a, d) => {
      const names = Object.keys(CONVENTIONS);
      const name = a.expectName(`a convention: ${names.join(", ")}`, names);
      if (name) d.convention = name.text.toLowerCase() as ConventionName;
    },
  },
  rounding: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "rounding keras",
    summary: `the head's width rule and a hidden dense layer's alone: ${Object.keys(ROUNDING_PRESETS).join(", ")} (default: the convention's; src/vocabulary/rounding.ts)`,
    read: (e, a, d) => {
      const presets = Object.keys(ROUNDING_PRESETS);
      const name = a.expectName(`a rounding preset: ${presets.join(", ")}`, presets);
      if (name) d.rounding = name.text.toLowerCase() as RoundingPresetName;
    },
  },
  padding: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "padding keras_mobilenet",
    summary: `how strided windows pad, by window (convs, depthwise convs, max pools): ${Object.keys(PADDING_RULES).join(", ")} (default: the convention's)`,
    read: (e, a, d) => {
      const names = Object.keys(PADDING_RULES);
      const name = a.expectName(`a padding rule: ${names.join(", ")}`, names);
      if (name) d.padding = name.text.toLowerCase() as PaddingRuleName;
    },
  },
  preprocessing: {
    form: "value",
    required: false,
    repeatable: false,
    syntax: "preprocessing none",
    summary: `what the model does to its [0, 255] pixels first: ${Object.keys(PREPROCESSING).join(", ")} (default: the convention's)`,
    read: (e, a, d) => {
      const names = Object.keys(PREPROCESSING);
      const name = a.expectName(`a preprocessing: ${names.join(", ")}`, names);
      if (name) d.preprocessing = name.text.toLowerCase() as PreprocessingName;
    },
  },
  budget: {
    form: "value",
    required: false,
    repeatable: true,
    syntax: "budget macs <= 40G [variant B7]",
    read: (e, a, d) => void d.budgetLines.push(e),
  },
};

function newDraft(convention: ConventionName): Draft {
  return {
    activation: "swish",
    seRatio: 0,
    seRule: KERAS_SE_RULE,
    convention,
    batchNorm: {},
    dropout: 0,
    dropConnect: 0,
    variantLines: [],
    budgetLines: [],
  };
}

export interface CheckOptions {
  /** Use this convention whatever the spec declares (`effnet weights import --from`); settings of their own still override it. */
  readonly convention?: ConventionName;
}

/** Syntax tree to checked spec: all semantic errors of the document at once. */
export function check(document: Document, options: CheckOptions = {}): CheckResult {
  const diagnostics: Diagnostic[] = [];
  const networks = document.entries.filter((e) => e.key.text === "network");
  for (const e of document.entries) {
    if (e.key.text !== "network")
      diagnostics.push(
        diagnostic("EFF2002", { name: e.key.text, where: "the file" }, e.key.span, {
          help: didYouMean(e.key.text, ["network"]) ?? "a spec is one `network NAME { … }`",
        }),
      );
  }
  if (networks.length !== 1) {
    diagnostics.push(
      diagnostic("EFF2001", { count: networks.length }, networks[1]?.key.span, {
        help: networks.length === 0 ? "start with `network MyNet {`" : undefined,
      }),
    );
    return { diagnostics };
  }
  const network = networks[0];
  const nameReader = new ArgReader(network.args, network.key.span, "network", diagnostics);
  const nameAtom = nameReader.expectName("the network's name");
  nameReader.expectEnd();
  if (nameAtom && !NAME_PATTERN.test(nameAtom.text))
    diagnostics.push(diagnostic("EFF2044", { name: nameAtom.text }, nameAtom.span));
  if (!network.block) {
    diagnostics.push(
      diagnostic("EFF2007", { name: "network" }, network.key.span, {
        help: "a network's settings go in a block: `network MyNet { … }`",
      }),
    );
    return { diagnostics };
  }

  const draft = newDraft(DEFAULT_CONVENTION);
  const seen = new Map<string, Span>();
  for (const item of network.block.items) {
    if (item.kind === "row") {
      diagnostics.push(
        diagnostic("EFF2006", { name: "network" }, item.span, {
          help: "tables go inside `stages { … }` or `variants { … }`",
        }),
      );
      continue;
    }
    const key = item.key.text;
    const setting = NETWORK_SETTINGS[key];
    if (!setting) {
      diagnostics.push(
        diagnostic("EFF2002", { name: key, where: "`network`" }, item.key.span, {
          help: didYouMean(key, Object.keys(NETWORK_SETTINGS)),
        }),
      );
      continue;
    }
    if (!setting.repeatable && seen.has(key)) {
      diagnostics.push(
        diagnostic("EFF2003", { name: key }, item.key.span, {
          related: [{ span: seen.get(key)!, message: "first set here" }],
        }),
      );
      continue;
    }
    seen.set(key, item.key.span);
    if (!checkForm(item, setting, diagnostics)) continue;
    const args = new ArgReader(item.args, item.key.span, key, diagnostics);
    setting.read(item, args, draft);
    if (setting.form === "value" && key !== "variant" && key !== "budget") args.expectEnd();
  }
  for (const [key, setting] of Object.entries(NETWORK_SETTINGS)) {
    if (setting.required && !seen.has(key))
      diagnostics.push(
        diagnostic("EFF2005", { name: key, where: `network \`${nameAtom?.text ?? ""}\`` }, network.key.span, {
          help: `e.g. \`${setting.syntax}\``,
        }),
      );
  }

  const defaults = { activation: draft.activation, seRatio: draft.seRatio, seRule: draft.seRule, input: draft.input };
  const { stages, rowCount, rows } = draft.stagesEntry
    ? checkStages(draft.stagesEntry, defaults, diagnostics)
    : { stages: [], rowCount: 0, rows: [] };
  const scaling = draft.scalingEntry
    ? checkScaling(draft.scalingEntry, rowCount || undefined, diagnostics)
    : REFERENCE_SCALING;
  const scaled = checkVariants(draft, scaling, diagnostics);
  const variants = draft.overridesEntry
    ? applyOverrides(draft.overridesEntry, scaled, rows, defaults, scaling, diagnostics)
    : scaled;
  const budgets = readBudgets(draft.budgetLines, variants, diagnostics);

  if (hasErrors(diagnostics) || !nameAtom || !draft.input || draft.classes === undefined) return { diagnostics };
  const { span: inputSpan, ...input } = draft.input;
  const conventionName = options.convention ?? draft.convention;
  const convention = CONVENTIONS[conventionName];
  const spec: Spec = {
    name: nameAtom.text,
    nameSpan: nameAtom.span,
    input,
    inputSpan,
    classes: draft.classes,
    activation: draft.activation,
    seRatio: draft.seRatio,
    batchNorm: { ...convention.batchNorm, ...draft.batchNorm },
    dropout: draft.dropout,
    dropConnect: draft.dropConnect,
    stages: stages as Stage[],
    scaling,
    convention: conventionName,
    rounding: draft.rounding ?? convention.rounding,
    padding: draft.padding ?? convention.padding,
    preprocessing: draft.preprocessing ?? convention.preprocessing,
    classifierActivation: convention.classifierActivation,
    variants,
    budgets,
  };
  return { spec, diagnostics };
}

function checkForm(item: Entry, setting: SettingDef, diagnostics: Diagnostic[]): boolean {
  const rows = item.block?.items.filter((i) => i.kind === "row").length ?? 0;
  const entries = (item.block?.items.length ?? 0) - rows;
  if (setting.form === "table" && (!item.block || entries > 0)) {
    diagnostics.push(
      diagnostic("EFF2007", { name: item.key.text }, item.key.span, { help: `e.g. \`${setting.syntax}\`` }),
    );
    return false;
  }
  if (setting.form === "block" && (!item.block || rows > 0)) {
    diagnostics.push(
      diagnostic(item.block ? "EFF2006" : "EFF2007", { name: item.key.text }, item.key.span, {
        help: `e.g. \`${setting.syntax}\``,
      }),
    );
    return false;
  }
  if (setting.form === "value" && item.block) {
    diagnostics.push(
      diagnostic(
        "EFF2004",
        { name: item.key.text, expected: "values on its line", found: "a block `{ … }`" },
        item.block.open,
        { help: `e.g. \`${setting.syntax}\`` },
      ),
    );
    return false;
  }
  return true;
}

export const VARIANT_COLUMNS: readonly ColumnDef[] = [
  { name: "Name", aliases: ["model", "variant"], required: true },
  { name: "Width", aliases: ["w", "width_coefficient"], required: false },
  { name: "Depth", aliases: ["d", "depth_coefficient"], required: false },
  { name: "Resolution", aliases: ["r", "res"], required: false },
  { name: "Dropout", aliases: ["dropout_rate"], required: false },
  { name: "Phi", aliases: ["φ"], required: false },
  { name: "Paper Params", aliases: ["reported params", "params (paper)"], required: false },
  { name: "Paper MACs", aliases: ["paper flops", "reported macs", "reported flops", "flops (paper)"], required: false },
];

/**
 * Variants are explicit coefficient rows (what the released models use) or derived from
 * φ: d = α^φ, w = β^φ, resolution = rounded(input × γ^φ) (section 3.3).
 */
function checkVariants(draft: Draft, scaling: Scaling, diagnostics: Diagnostic[]): Variant[] {
  const variants: Variant[] = [];
  const baseResolution = draft.input?.height ?? 0;
  const names = new Map<string, Span>();
  const add = (v: Variant) => {
    if (!VARIANT_NAME_PATTERN.test(v.name))
      diagnostics.push(
        diagnostic("EFF2044", { name: v.name }, v.span, { help: "a variant name may also hold dots: `V2_1.0`" }),
      );
    const clash = [...names.keys()].find((n) => variantFileStem(n) === variantFileStem(v.name));
    if (clash !== undefined)
      diagnostics.push(
        diagnostic("EFF2040", { name: v.name }, v.span, {
          related: [{ span: names.get(clash)!, message: "first defined here" }],
          help: "variant names must differ in more than case and `.` against `_`: they become file names",
        }),
      );
    else names.set(v.name, v.span);
    variants.push(v);
  };
  const fromPhi = (
    name: string,
    span: Span,
    phi: number,
    dropout: number,
    reported: Variant["reported"],
  ): Variant | undefined => {
    const coefficients = phiCoefficients(scaling, baseResolution, phi);
    if (!coefficients) {
      diagnostics.push(diagnostic("EFF2042", { name }, span));
      return undefined;
    }
    return { name, span, phi, ...coefficients, dropout, reported };
  };

  if (draft.variantsEntry) {
    const table = readTable(draft.variantsEntry, "variants", VARIANT_COLUMNS, diagnostics);
    if (!table)
      diagnostics.push(
        diagnostic("EFF2007", { name: "variants" }, draft.variantsEntry.key.span, {
          help: "the first row names the columns: `| Name | Width | Depth | Resolution | Dropout |`",
        }),
      );
    for (const row of table?.rows ?? []) {
      const nameCell = row.cell("Name")!;
      const name = nameCell.atoms.map((a) => a.text).join("");
      /** The number in `column`'s cell, or `fallback` when it is absent or `-`; an invalid one is `refuse`'s diagnostic. */
      const number = (
        column: string,
        refuse: (found: string, span: Span) => Diagnostic,
        valid: (x: number) => boolean,
        fallback: number | undefined,
      ): number | undefined => {
        const cell = row.cell(column);
        if (!cell || isNotApplicable(cell)) return fallback;
        const value = cell.atoms.length === 1 ? numberValue(cell.atoms[0]) : undefined;
        if (value === undefined || !valid(value)) {
          diagnostics.push(refuse(cell.atoms.map((a) => a.text).join(" ") || "(empty)", cell.span));
          return undefined;
        }
        return value;
      };
      const count = (column: string) =>
        number(
          column,
          (found, span) => diagnostic("EFF2058", { column, found }, span),
          (x) => x >= 1 && Number.isFinite(x),
          undefined,
        );
      const coefficient = (column: string) =>
        number(
          column,
          (found, span) => diagnostic("EFF2041", { column, found }, span),
          (x) => x > 0,
          1,
        );
      const reported = { params: count("Paper Params"), macs: count("Paper MACs") };
      const dropout = number(
        "Dropout",
        (found, span) => diagnostic("EFF2059", { found }, span),
        fraction,
        draft.dropout,
      );
      const phi = number(
        "Phi",
        (found, span) => diagnostic("EFF2060", { found }, span),
        () => true,
        undefined,
      );
      if (phi !== undefined && dropout !== undefined) {
        const v = fromPhi(name, nameCell.span, phi, dropout, reported);
        if (v) add(v);
        continue;
      }
      const width = coefficient("Width");
      const depth = coefficient("Depth");
      const resolution = number(
        "Resolution",
        (found, span) => diagnostic("EFF2061", { found }, span),
        (x) => Number.isInteger(x) && x > 0,
        baseResolution,
      );
      if (width !== undefined && depth !== undefined && resolution !== undefined && dropout !== undefined) {
        add({ name, span: nameCell.span, width, depth, resolution, dropout, reported });
      }
    }
  }
  for (const line of draft.variantLines) {
    const args = new ArgReader(line.args, line.key.span, "variant", diagnostics);
    const nameAtom = args.expectName("the variant's name");
    if (!nameAtom) continue;
    let phi: number | undefined;
    let dropout = draft.dropout;
    while (!args.done) {
      const key = args.expectName("`phi N` or `dropout R`", ["phi", "φ", "dropout"]);
      if (!key) break;
      if (key.text === "dropout") dropout = args.expectNumber("a rate in [0, 1)", fraction) ?? dropout;
      else phi = args.expectNumber("a number for φ");
    }
    if (phi === undefined) {
      if (!args.done || line.args.length === 1)
        diagnostics.push(
          diagnostic("EFF2005", { name: "phi", where: `variant \`${nameAtom.text}\`` }, nameAtom.span, {
            help: "e.g. `variant B8 phi 8`",
          }),
        );
      continue;
    }
    const v = fromPhi(nameAtom.text, nameAtom.span, phi, dropout, {});
    if (v) add(v);
  }
  if (variants.length === 0 && !draft.variantsEntry && draft.variantLines.length === 0 && draft.input) {
    // A spec without variants describes one network: audit its baseline.
    variants.push({
      name: "base",
      span: draft.input.span,
      width: 1,
      depth: 1,
      resolution: draft.input.height,
      dropout: draft.dropout,
      reported: {},
    });
  }
  return variants;
}

/** `budget macs <= 40G [variant B0]` lines, read and checked against the variants they name. */
function readBudgets(lines: readonly Entry[], variants: readonly Variant[], diagnostics: Diagnostic[]): Budget[] {
  const budgets: Budget[] = [];
  for (const line of lines) {
    const args = new ArgReader(line.args, line.key.span, "budget", diagnostics);
    const metric = args.expectName(BUDGET_METRIC_NAMES.map((m) => `\`${m}\``).join(", "), BUDGET_METRIC_NAMES);
    if (!metric) continue;
    if (!args.accept("<=") && !args.accept("≤")) {
      args.fail("`<=`");
      continue;
    }
    const limit = args.expectQuantity("a limit such as `40G`, `10M` or `500K`");
    if (limit === undefined) continue;
    let variant: string | undefined;
    if (args.acceptWord("variant", "for")) {
      const name = args.expectName("a variant name");
      if (!name) continue;
      if (!variants.some((v) => v.name === name.text)) {
        diagnostics.push(
          diagnostic("EFF2045", { name: name.text }, name.span, {
            help: didYouMean(
              name.text,
              variants.map((v) => v.name),
            ),
          }),
        );
        continue;
      }
      variant = name.text;
    }
    args.expectEnd();
    budgets.push({ metric: metric.text.toLowerCase() as BudgetMetric, limit, variant, span: line.span });
  }
  return budgets;
}
