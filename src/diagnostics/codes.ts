/**
 * The one table of diagnostics. Every user-facing failure has a code here: EFF0xxx
 * command line, EFF1xxx syntax, EFF2xxx semantics, EFF3xxx scaling and lowering,
 * EFF4xxx cost and budgets, EFF5xxx weights files (`effnet weights`) and model directories, EFF6xxx images. Messages make sense on their own (they are printed without
 * the source in CI logs); `help` is a likely fix. `test/errors/` holds at least one
 * failing spec per code with its rendered output.
 */
export type Severity = "error" | "warning";

interface Entry<A> {
  readonly severity: Severity;
  readonly title: string;
  readonly message: (args: A) => string;
}

function entry<A>(severity: Severity, title: string, message: (args: A) => string): Entry<A> {
  return { severity, title, message };
}

const q = (s: string | number) => `\`${s}\``;
/** `a`, `b` or `c`: the choices a table offers, named by the call site as data. */
const oneOf = (names: readonly string[]) =>
  names.length < 2 ? names.map(q).join("") : `${names.slice(0, -1).map(q).join(", ")} or ${q(names[names.length - 1])}`;

/**
 * One measure of a network past a size limit, its figures formatted by the caller
 * (src/scaling/scale.ts sizeProblems, src/cost/budgets.ts): the data of EFF3001, EFF3003
 * and EFF3004, one phrase per measure.
 */
export interface SizeProblem {
  readonly measure: keyof typeof SIZE_MEASURES;
  readonly value: string;
  readonly limit: string;
}
const SIZE_MEASURES = {
  layers: (p: SizeProblem) => `${p.value} layers (limit ${p.limit})`,
  tfjsLayers: (p: SizeProblem) => `${p.value} TensorFlow.js layers (limit ${p.limit}, the deepest graph tfjs builds)`,
  input: (p: SizeProblem) => `an input of ${p.value} pixels (limit ${p.limit})`,
  channels: (p: SizeProblem) => `${p.value} channels in one layer (limit ${p.limit})`,
  params: (p: SizeProblem) => `${p.value} parameters (limit ${p.limit})`,
  macs: (p: SizeProblem) => `${p.value} multiply-adds (limit ${p.limit})`,
};
/** The problems as the messages print them, for a screen that reports them without a diagnostic (src/report/hypothetical.ts). */
export const describeSizeProblems = (problems: readonly SizeProblem[]) =>
  problems.map((p) => SIZE_MEASURES[p.measure](p)).join(", ");

/** A grouped convolution whose scaled channels do not divide by its groups (EFF3005; src/operators/table.ts). */
export interface GroupsThatDoNotDivide {
  readonly input: number;
  readonly output: number;
  readonly groups: number;
}

/** Why such a stage cannot be built, as EFF3005 says it (and the what-if screen of src/report/hypothetical.ts). */
export const describeGroupsThatDoNotDivide = (g: GroupsThatDoNotDivide) =>
  `${g.input} → ${g.output} channels cannot be split into ${g.groups} groups`;

/** A stage that rounding scaled to no layers or no channels (EFF3002), with the derivation of the number. */
export interface VanishedStage {
  readonly stage: number;
  readonly measure: "layers" | "channels";
  readonly value: number;
  readonly provenance: string;
}

export const DIAGNOSTICS = {
  // ---- command line (no span; rendered as `effnet: error[EFF0xxx]: ...`)
  EFF0001: entry<{ path: string; reason: string }>(
    "error",
    "cannot read file",
    (a) => `cannot read ${a.path}: ${a.reason}`,
  ),
  EFF0002: entry<{ name: string; known: string }>(
    "error",
    "unknown variant",
    (a) => `no variant named ${q(a.name)}; this spec has ${a.known}`,
  ),
  EFF0003: entry<{ path: string; reason: string }>(
    "error",
    "cannot write output",
    (a) => `cannot write ${a.path}: ${a.reason}`,
  ),
  EFF0010: entry<{ path: string; limit: string }>(
    "error",
    "spec file too large",
    (a) => `${a.path} is larger than ${a.limit}, far beyond any network a spec describes; is it the right file?`,
  ),
  // `effnet solve`: the search for the largest φ within a budget (src/report/solve.ts)
  EFF0004: entry<{ network: string }>(
    "error",
    "nothing to solve for",
    (a) => `network ${q(a.network)} has no \`scaling compound { ... }\` block, so there is no φ to solve for`,
  ),
  EFF0005: entry<{ budgets: string; phi: string; cost: string }>(
    "error",
    "budget below the smallest network",
    (a) =>
      `even the smallest network the rounding rules build (φ = ${a.phi}) is over the budget: ${a.cost} against ${a.budgets}`,
  ),
  EFF0006: entry<{ budgets: string; phi: string; what: string }>(
    "error",
    "budget never binds",
    (a) => `every φ up to ${a.phi} fits ${a.budgets}; beyond it the network is too large to build (${a.what})`,
  ),
  // `effnet train` / `bench-model`: the training-memory check (src/cost/training.ts checkTrainingMemory)
  EFF0007: entry<{
    network: string;
    variant: string;
    resolution: number;
    batch: number;
    needs: string;
    share: number;
    limit: string;
    /** The largest batch that fits and its estimate, or none when not even batch 1 fits. */
    fits?: { batch: number; needs: string };
  }>(
    "error",
    "training does not fit in memory",
    (a) =>
      `training ${a.network} ${a.variant} at ${a.resolution}×${a.resolution} with batch ${a.batch} needs about ${a.needs}, more than ${a.share} % of ${a.limit}; ${a.fits ? `the largest batch that fits is ${a.fits.batch} (about ${a.fits.needs})` : "not even batch 1 fits"}`,
  ),
  // `effnet train --workers N`: a data-parallel worker thread failed (src/runtime/parallel.ts)
  EFF0008: entry<{ worker: string; reason: string }>(
    "error",
    "a training worker failed",
    (a) => `training worker ${a.worker} failed: ${a.reason}`,
  ),

  // src/files/write.ts refuses a write whose outputs land on one file before writing any
  EFF0012: entry<{ path: string; first: string }>("error", "outputs collide", (a) =>
    a.first === a.path
      ? `two outputs go to ${a.path} (two specs with the same network name?); nothing was written`
      : `${a.path} is the same file as ${a.first}; nothing was written`,
  ),

  // `search --write` / `solve --write`: an edit of the spec through the printer (src/cli/spec-edit.ts)
  EFF0011: entry<{ path: string; what: string; reason: string }>(
    "error",
    "cannot edit the spec",
    (a) => `cannot write ${a.what} into ${a.path}: ${a.reason}; the file was not changed`,
  ),

  // ---- syntax
  EFF1001: entry<{ text: string }>("error", "unexpected character", (a) => `unexpected character ${q(a.text)}`),
  EFF1002: entry<{ found: string; expected: string }>(
    "error",
    "unexpected token",
    (a) => `expected ${a.expected}, found ${a.found}`,
  ),
  EFF1003: entry<{ found: string }>(
    "error",
    "unclosed block",
    (a) => `this block is not closed: expected \`}\`, found ${a.found}`,
  ),
  EFF1004: entry<{ limit: number }>(
    "error",
    "blocks nested too deep",
    (a) => `this block is nested more than ${a.limit} levels deep; a spec needs two (\`network { stages { … } }\`)`,
  ),

  // ---- semantics: document structure and settings
  EFF2001: entry<{ count: number }>("error", "no single network", (a) =>
    a.count === 0
      ? "the file defines no `network { ... }`"
      : `the file defines ${a.count} networks; a spec holds exactly one`,
  ),
  EFF2002: entry<{ name: string; where: string }>(
    "error",
    "unknown setting",
    (a) => `unknown setting ${q(a.name)} in ${a.where}`,
  ),
  EFF2003: entry<{ name: string }>("error", "duplicate setting", (a) => `${q(a.name)} is set more than once`),
  EFF2004: entry<{ name: string; expected: string; found: string }>(
    "error",
    "invalid value",
    (a) => `${q(a.name)} expects ${a.expected}, found ${a.found}`,
  ),
  EFF2005: entry<{ name: string; where: string }>("error", "missing setting", (a) => `${a.where} has no ${q(a.name)}`),
  EFF2006: entry<{ name: string }>("error", "unexpected table", (a) => `${q(a.name)} takes settings, not table rows`),
  EFF2007: entry<{ name: string }>("error", "table expected", (a) => `${q(a.name)} takes a table of \`| ... |\` rows`),

  // ---- semantics: tables
  EFF2010: entry<{ name: string; table: string }>(
    "error",
    "unknown column",
    (a) => `unknown column ${q(a.name)} in the ${a.table} table`,
  ),
  EFF2011: entry<{ name: string; table: string }>(
    "error",
    "missing column",
    (a) => `the ${a.table} table has no ${q(a.name)} column`,
  ),
  EFF2012: entry<{ expected: number; found: number }>(
    "error",
    "wrong number of cells",
    (a) => `this row has ${a.found} cell${a.found === 1 ? "" : "s"} but the header has ${a.expected}`,
  ),
  EFF2013: entry<{ name: string }>("error", "duplicate column", (a) => `column ${q(a.name)} appears twice`),
  EFF2014: entry<{ table: string }>("error", "empty table", (a) => `the ${a.table} table has a header but no rows`),

  // ---- semantics: stages
  EFF2020: entry<{ found: string; expected: number }>(
    "error",
    "stage out of order",
    (a) => `stage ${q(a.found)} is out of order: expected stage ${a.expected}`,
  ),
  EFF2021: entry<{ name: string }>("error", "unknown operator", (a) => `unknown operator ${q(a.name)}`),
  EFF2022: entry<{ modifiers: readonly string[]; found: string }>(
    "error",
    "unknown operator modifier",
    (a) => `modifiers are ${a.modifiers.join(", ")}, found ${q(a.found)}`,
  ),
  EFF2023: entry<{ column: string; found: string }>(
    "error",
    "not a positive integer",
    (a) => `the ${a.column} column takes a positive whole number, found ${q(a.found)}`,
  ),
  EFF2024: entry<{ from: string; to: string }>(
    "error",
    "resolution ratio not whole",
    (a) => `resolution ${a.from} → ${a.to} is not a whole-number stride`,
  ),
  EFF2025: entry<{ declared: number; inferred: number }>(
    "error",
    "stride disagrees",
    (a) => `the Stride column says ${a.declared} but the resolution column implies ${a.inferred}`,
  ),
  EFF2026: entry<{ stage: string; input: string }>(
    "error",
    "first stage resolution",
    (a) => `the first stage's resolution ${a.stage} is not the network input ${a.input}`,
  ),
  EFF2027: entry<{ found: string }>(
    "error",
    "invalid resolution cell",
    (a) => `a resolution is \`HxW\` (e.g. \`112x112\`) or one whole number, found ${q(a.found)}`,
  ),
  EFF2028: entry<{ operator: string }>(
    "error",
    "classifier head not last",
    (a) => `${q(a.operator)} is the classifier head: it must be the last stage`,
  ),
  EFF2029: entry<{ column: string; column_value: string; operator: string; operator_value: string }>(
    "error",
    "column contradicts the operator cell",
    (a) =>
      `the ${a.column} column says ${a.column_value} but the operator cell ${q(a.operator)} says ${a.operator_value}`,
  ),
  EFF2036: entry<{ column: string; operator: string }>(
    "error",
    "column does not apply",
    (a) => `the ${a.column} column does not apply to ${q(a.operator)}`,
  ),
  EFF2037: entry<{ stage: number; why: string }>(
    "error",
    "stage cannot be left out",
    (a) => `stage ${a.stage} has 0 layers, but it cannot be left out: ${a.why}`,
  ),
  EFF2050: entry<{ found: string; size: number }>(
    "error",
    "kernel not square",
    (a) => `kernels are square (\`k${a.size}x${a.size}\`), found ${q(a.found)}`,
  ),
  EFF2051: entry<{ kernel: number }>(
    "error",
    "kernel size not odd",
    (a) =>
      `kernel size ${a.kernel} is not odd and positive: only an odd kernel keeps the output centred under \`same\` padding`,
  ),
  EFF2052: entry<{ operator: string; expand: number }>(
    "error",
    "expansion below 1",
    (a) => `${q(a.operator)} expands by ${a.expand}: the expansion ratio must be at least 1`,
  ),
  EFF2053: entry<{ operator: string }>(
    "error",
    "no expansion given",
    (a) =>
      `${q(a.operator)} takes its expansion from its name (${q(`${a.operator}6`)}) or an Expanded column; this row has neither`,
  ),
  EFF2054: entry<{ found: string }>(
    "error",
    "SE ratio out of range",
    (a) => `an SE ratio is a number from 0 to 1, found ${q(a.found)}`,
  ),
  EFF2055: entry<{ found: string; known: readonly string[] }>(
    "error",
    "unknown activation",
    (a) => `unknown activation ${q(a.found)}: an activation is one of ${a.known.join(", ")}`,
  ),
  EFF2056: entry<{ operator: string; input: number; channels: number }>(
    "error",
    "channels change across a channel-keeping operator",
    (a) => `${q(a.operator)} keeps its input's channels: this stage has ${a.input}, not ${a.channels}`,
  ),
  EFF2057: entry<{ operator: string; layers: number }>(
    "error",
    "classifier head repeated",
    (a) => `${q(a.operator)} is the classifier head: it has exactly 1 layer, not ${a.layers}`,
  ),

  // ---- semantics: scaling rules
  EFF2030: entry<{ rules: readonly string[]; found: string }>(
    "error",
    "unknown scaling rule",
    (a) => `a scaling rule is ${oneOf(a.rules)}, found ${q(a.found)}`,
  ),
  EFF2031: entry<{ expr: string; value: string; target: string; tolerance: string }>(
    "error",
    "compound constraint violated",
    (a) => `${a.expr} = ${a.value}, outside ${a.target} ± ${a.tolerance}`,
  ),
  EFF2032: entry<{ expr: string; value: string; target: string }>(
    "warning",
    "compound constraint inexact",
    (a) => `${a.expr} = ${a.value}, not exactly ${a.target} (no tolerance given)`,
  ),
  EFF2033: entry<{ name: string; value: string }>(
    "error",
    "coefficient below 1",
    (a) => `${a.name} = ${a.value}; compound scaling needs α, β, γ ≥ 1 (Tan & Le 2019, eq. 3)`,
  ),
  EFF2034: entry<{ stage: number }>("error", "unknown stage", (a) => `there is no stage ${a.stage}`),
  EFF2035: entry<{ value: string }>(
    "error",
    "compound scaling that does not grow",
    (a) =>
      `α·β²·γ² = ${a.value}: φ would ${a.value === "1" ? "scale nothing" : "overflow every count"}; compound scaling needs 1 < α·β²·γ² < ∞`,
  ),

  // ---- semantics: variants and budgets
  EFF2040: entry<{ name: string }>(
    "error",
    "duplicate variant",
    (a) => `variant ${q(a.name)} is defined more than once`,
  ),
  EFF2041: entry<{ column: string; found: string }>(
    "error",
    "invalid variant coefficient",
    (a) => `a ${a.column.toLowerCase()} coefficient is a positive number, found ${q(a.found)}`,
  ),
  EFF2042: entry<{ name: string }>(
    "error",
    "φ variant without scaling",
    (a) => `variant ${q(a.name)} is derived from φ but the network has no \`scaling compound { ... }\` block`,
  ),
  EFF2044: entry<{ name: string }>(
    "error",
    "invalid name",
    (a) => `${q(a.name)} is not a valid name: use letters, digits and \`_\`, starting with a letter`,
  ),
  EFF2045: entry<{ name: string }>(
    "error",
    "budget for an unknown variant",
    (a) => `the budget names variant ${q(a.name)}, which this spec does not define`,
  ),
  // `overrides { | Variant | Stages | … | }`: per-variant stage overrides (src/semantics/overrides.ts)
  EFF2046: entry<{ name: string }>(
    "error",
    "override for an unknown variant",
    (a) => `the overrides table names variant ${q(a.name)}, which this spec does not define`,
  ),
  EFF2047: entry<{ column: string; found: number; expected: number }>(
    "error",
    "wrong number of override values",
    (a) =>
      `the ${a.column} cell has ${a.found} values for ${a.expected} stages: give one per listed stage, or one for all of them`,
  ),
  EFF2048: entry<{ variant: string; stage: number; column: string; dimension: string; coefficient: number }>(
    "error",
    "override scaled by its variant",
    (a) =>
      `variant ${q(a.variant)} overrides stage ${a.stage}'s ${a.column} and scales ${a.dimension} by ${Number(a.coefficient.toPrecision(6))}: whether the override would be scaled is ambiguous`,
  ),
  EFF2049: entry<{ variant: string; stage: number; column: string }>(
    "error",
    "stage overridden twice",
    (a) => `variant ${q(a.variant)} sets stage ${a.stage}'s ${a.column} more than once`,
  ),
  EFF2058: entry<{ column: string; found: string }>(
    "error",
    "reported count below 1",
    (a) => `the ${a.column} column is a count, at least 1 (e.g. \`5.3M\` or \`0.39B\`), found ${q(a.found)}`,
  ),
  EFF2059: entry<{ found: string }>(
    "error",
    "dropout rate out of range",
    (a) => `a dropout rate is in [0, 1), found ${q(a.found)}`,
  ),
  EFF2060: entry<{ found: string }>("error", "φ not a number", (a) => `φ is a number, found ${q(a.found)}`),
  EFF2061: entry<{ found: string }>(
    "error",
    "variant resolution not whole",
    (a) => `a variant's resolution is a positive whole number of pixels, found ${q(a.found)}`,
  ),
  EFF2062: entry<{ found: string }>(
    "error",
    "invalid stage list",
    (a) => `the Stages cell lists stage numbers separated by commas (e.g. \`3, 4, 5, 6\`), found ${q(a.found)}`,
  ),
  EFF2063: entry<{ found: string }>(
    "error",
    "invalid layer count",
    (a) => `the Layers column takes a whole number of repeats (0 leaves the stage out), found ${q(a.found)}`,
  ),

  // ---- scaling and lowering
  EFF3001: entry<{ variant: string; problems: readonly SizeProblem[] }>(
    "error",
    "variant too large",
    (a) => `variant ${q(a.variant)} is too large to build sensibly: ${describeSizeProblems(a.problems)}`,
  ),

  EFF3002: entry<{ variant: string; stages: readonly VanishedStage[] }>(
    "error",
    "scaled to nothing",
    (a) =>
      `variant ${q(a.variant)} scales ${a.stages.map((s) => `stage ${s.stage} to ${s.value} ${s.measure} (${s.provenance})`).join(", ")}: a network cannot be built from it`,
  ),
  EFF3003: entry<{ variant: string; problems: readonly SizeProblem[] }>(
    "error",
    "variant cannot be built",
    (a) =>
      `variant ${q(a.variant)} cannot be built at all, even with --allow-huge: ${describeSizeProblems(a.problems)}`,
  ),

  EFF3004: entry<{ problems: readonly SizeProblem[] }>(
    "error",
    "stage table cannot be built",
    (a) =>
      `the stage table as written cannot be built at all, even with --allow-huge: ${describeSizeProblems(a.problems)}`,
  ),
  EFF3005: entry<{ variant: string; stage: number } & GroupsThatDoNotDivide>(
    "error",
    "stage cannot be built at its scaled channels",
    (a) => `variant ${q(a.variant)}: stage ${a.stage} cannot be built: ${describeGroupsThatDoNotDivide(a)}`,
  ),

  EFF3006: entry<{ variant: string; stage: number; resolution: string }>(
    "error",
    "no pixels left",
    (a) =>
      `variant ${q(a.variant)} at ${a.resolution} leaves stage ${a.stage} no pixels: a strided window of its padding rule reads past the edge of a map this small`,
  ),

  // ---- cost and budgets
  EFF4001: entry<{ variant: string; metric: string; value: string; limit: string }>(
    "error",
    "over budget",
    (a) => `variant ${q(a.variant)} has ${a.value} ${a.metric}, over the budget of ${a.limit}`,
  ),
  EFF4002: entry<{ variant: string }>(
    "error",
    "nothing to learn",
    (a) => `variant ${q(a.variant)} has no trainable parameters: it computes nothing a model could learn`,
  ),

  // ---- weights files (src/weights; no span: the file and the tensor are named in the message)
  EFF5001: entry<{ path: string; size: number }>(
    "error",
    "not a safetensors file",
    (a) => `${a.path} is not a safetensors file: ${a.size} bytes, shorter than the 8-byte header length`,
  ),
  EFF5002: entry<{ path: string; key: string; needed: number; size: number }>(
    "error",
    "truncated weights file",
    (a) =>
      `${a.path} is truncated: tensor ${q(a.key)} ends at byte ${a.needed} of the data, which holds only ${a.size} bytes`,
  ),
  EFF5003: entry<{ path: string; key: string; dtype: string; expected: string }>(
    "error",
    "unsupported tensor type",
    (a) => `tensor ${q(a.key)} in ${a.path} is ${a.dtype}; effnet reads ${a.expected}`,
  ),
  EFF5004: entry<{ key: string; layer: string; shape: string }>(
    "error",
    "missing tensor",
    (a) => `missing tensor ${q(a.key)} for effnet layer ${q(a.layer)} (${a.shape})`,
  ),
  EFF5005: entry<{ key: string; shape: string; reference: string }>(
    "error",
    "unexpected tensor",
    (a) => `unexpected tensor ${q(a.key)} ${a.shape}: no layer of this network has that ${a.reference} name`,
  ),
  EFF5006: entry<{ key: string; layer: string; expected: string; found: string }>(
    "error",
    "tensor shape mismatch",
    (a) => `tensor ${q(a.key)} has shape ${a.found}; effnet layer ${q(a.layer)} needs ${a.expected}`,
  ),
  EFF5007: entry<{ layer: string; reference: string }>(
    "error",
    "no reference name",
    (a) => `effnet layer ${q(a.layer)} has no ${a.reference} name: no naming rule of src/weights/naming.ts covers it`,
  ),
  EFF5008: entry<{ dir: string; convention: string; reference: string }>(
    "error",
    "convention mismatch",
    (a) =>
      `${a.dir} was built under the ${q(a.convention)} convention; ${a.reference}'s model computes another function from the same weights`,
  ),

  // ---- model directories (src/runtime/io.ts, checkpoint.ts): untrusted input, each problem one line naming the file
  EFF5010: entry<{ dir: string; what: string; file: string; reason: string; fix: string }>(
    "error",
    "no saved model",
    (a) => `${a.dir} holds no ${a.what}: cannot read ${a.file} (${a.reason}); ${a.fix}`,
  ),
  EFF5011: entry<{ path: string; detail: string }>(
    "error",
    "model file not JSON",
    (a) => `${a.path}: not valid JSON (${a.detail})`,
  ),
  EFF5012: entry<{ path: string; entry: string; dir: string }>(
    "error",
    "path outside the model directory",
    (a) =>
      `${a.path} names ${q(a.entry)}, which is not a file inside ${a.dir}; a model directory only reads its own files`,
  ),
  EFF5013: entry<{ files: string; size: number; expected: number; manifest: string }>(
    "error",
    "weights file size mismatch",
    (a) =>
      `${a.files} holds ${a.size} bytes but ${a.manifest} describes ${a.expected}; the weights do not belong to this manifest (or the file is truncated)`,
  ),
  EFF5014: entry<{ path: string; reason: string }>(
    "error",
    "model cannot be built",
    (a) => `${a.path} does not build a model effnet can run: ${a.reason}`,
  ),
  EFF5015: entry<{ path: string }>("error", "model file not an object", (a) => `${a.path}: not a JSON object`),
  EFF5016: entry<{ path: string; limit: number }>(
    "error",
    "model file too large",
    (a) => `${a.path}: larger than ${a.limit} bytes, not a file effnet wrote`,
  ),
  EFF5017: entry<{ path: string; field: string; kind: "object" | "list" }>(
    "error",
    "not a tfjs layers model",
    (a) => `${a.path}: no ${q(a.field)} ${a.kind}: not a tfjs layers model`,
  ),
  EFF5018: entry<{ path: string; group: number; field?: "paths" | "weights" }>(
    "error",
    "malformed weights group",
    (a) =>
      `${a.path}: weightsManifest entry ${a.group} ${a.field === undefined ? "is not an object" : `has no ${q(a.field)} list${a.field === "paths" ? " of file names" : ""}`}`,
  ),
  EFF5019: entry<{ path: string; where: string }>(
    "error",
    "weights not a list",
    (a) => `${a.path}: ${a.where}: the weights are not a list`,
  ),
  EFF5020: entry<{ path: string; where: string; weight: number }>(
    "error",
    "weight without a name",
    (a) => `${a.path}: ${a.where}: weight ${a.weight} has no name`,
  ),
  EFF5021: entry<{
    path: string;
    where: string;
    weight: string;
    dtype: string;
    readable: readonly string[];
    quantised: readonly string[];
  }>(
    "error",
    "unsupported weight dtype",
    (a) =>
      `${a.path}: ${a.where}: ${a.weight} has dtype ${a.dtype}; effnet reads ${a.readable.join(", ")} (quantised: ${a.quantised.join(", ")})`,
  ),
  EFF5022: entry<{ path: string; where: string; weight: string; shape: string }>(
    "error",
    "invalid weight shape",
    (a) => `${a.path}: ${a.where}: ${a.weight} has shape ${a.shape}, not a list of whole non-negative numbers`,
  ),
  EFF5023: entry<{ path: string; where: string; weight: string; shape: readonly number[]; limit: number }>(
    "error",
    "weight too large",
    (a) =>
      `${a.path}: ${a.where}: ${a.weight} has shape [${a.shape.join(", ")}], more than the ${a.limit} bytes effnet loads`,
  ),
  EFF5024: entry<{ path: string; total: number; limit: number }>(
    "error",
    "weights too large",
    (a) => `${a.path}: its weights add up to ${a.total} bytes, more than the ${a.limit} effnet loads`,
  ),
  EFF5025: entry<{ path: string }>(
    "error",
    "weights file not a regular file",
    (a) => `${a.path}: not a regular file (a weights file must be one)`,
  ),
  EFF5026: entry<{ path: string; field: string }>(
    "error",
    "effnet's model record malformed",
    (a) => `${a.path}: ${a.field} is not what effnet records`,
  ),
  EFF5027: entry<{ path: string; format: string }>(
    "error",
    "not a training checkpoint",
    (a) => `${a.path}: not an effnet training checkpoint (format ${a.format})`,
  ),
  EFF5028: entry<{ path: string; field: string }>(
    "error",
    "checkpoint field malformed",
    (a) => `${a.path}: ${q(a.field)} is missing or malformed`,
  ),
  EFF5029: entry<{ path: string; height: number; width: number; limit: string }>(
    "error",
    "model input too large",
    (a) =>
      `${a.path} takes ${a.height}×${a.width}-pixel inputs, more than the ${a.limit} of the largest image effnet reads`,
  ),
  // ---- weights files, continued (src/weights/safetensors.ts): each way a file is not safetensors
  EFF5030: entry<{ path: string; length: string; limit: number }>(
    "error",
    "safetensors header too large",
    (a) =>
      `${a.path} is not a safetensors file: its first 8 bytes give a header of ${a.length} bytes (the format allows ${a.limit})`,
  ),
  EFF5031: entry<{ path: string; length: number; available: number }>(
    "error",
    "safetensors header past the end",
    (a) =>
      `${a.path} is not a safetensors file: the header should be ${a.length} bytes but the file has only ${a.available} after its length`,
  ),
  EFF5032: entry<{ path: string; detail: string }>(
    "error",
    "safetensors header not JSON",
    (a) => `${a.path} is not a safetensors file: its header is not UTF-8 JSON (${a.detail})`,
  ),
  EFF5033: entry<{ path: string }>(
    "error",
    "safetensors header not an object",
    (a) => `${a.path} is not a safetensors file: its header is not a JSON object`,
  ),
  EFF5034: entry<{ path: string; key: string }>(
    "error",
    "malformed safetensors entry",
    (a) =>
      `${a.path} is not a safetensors file: its header entry ${JSON.stringify(a.key)} is not {dtype, shape, data_offsets: [begin, end]}`,
  ),
  EFF5035: entry<{ path: string; key: string; dtype: string; shape: readonly number[]; bytes: number; span: number }>(
    "error",
    "safetensors offsets disagree with the shape",
    (a) =>
      `${a.path} is not a safetensors file: tensor ${JSON.stringify(a.key)} is ${a.dtype} ${JSON.stringify(a.shape)} (${a.bytes} bytes) but its data_offsets span ${a.span}`,
  ),

  // ---- images (src/runtime/data.ts)
  EFF6001: entry<{ path: string; size: string; limit: string }>(
    "error",
    "image too large",
    (a) => `${a.path} is ${a.size}; effnet decodes images up to ${a.limit}: scale it down first`,
  ),
  EFF6002: entry<{ path: string; reason: string }>(
    "error",
    "cannot decode image",
    (a) => `cannot decode ${a.path}: ${a.reason}`,
  ),
  EFF6004: entry<{ path: string; reason: string }>(
    "error",
    "unreadable data folder entry",
    (a) => `cannot read ${a.path} in the data folder: ${a.reason}`,
  ),
  EFF6003: entry<{ count: number; folder?: string; size: number; needs: string; limit: string }>(
    "error",
    "data set too large",
    (a) =>
      `${a.count} ${a.folder === undefined ? "shapes images" : `images of ${a.folder}`} at ${a.size}×${a.size} need ${a.needs} in memory as float32, more than the ${a.limit} effnet holds; lower --resolution or use fewer images`,
  ),
} as const;

export type Code = keyof typeof DIAGNOSTICS;
export type ArgsOf<C extends Code> = Parameters<(typeof DIAGNOSTICS)[C]["message"]>[0];
