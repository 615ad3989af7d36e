/**
 * effnet's fuzzing harness (issue 15): seeded spec generators, one in-process run of
 * every phase a user can reach (parse → check → scale → lower → cost → each report format
 * → codegen, and the printer's round trip), and a classification of what happened. A run
 * is a pure function of its seed, so a failure is reproduced by its seed and case number,
 * and `minimize` shrinks it to the fewest lines that fail the same way.
 *
 * `npm run fuzz -- --cases N --seed S` (fuzz/run.ts) drives it; test/fuzz.test.ts runs a
 * seeded sample in `npm test`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { emitDeclarations, emitModule } from "../src/codegen/emit.ts";
import { compile, type Compilation } from "../src/compile.ts";
import type { SourceFile } from "../src/diagnostics/source.ts";
import { audit } from "../src/report/audit.ts";
import { renderReport } from "../src/report/outputs.ts";
import { applicablePlots, plotFile } from "../src/report/plots.ts";
import { auditSchemaErrors } from "../src/report/schema.ts";
import { parse } from "../src/syntax/parse.ts";
import { print } from "../src/syntax/print.ts";

/** What one case did. Everything but `ok` and `diagnostics` is a failure the harness reports. */
export type Outcome =
  | "ok" // compiled, every output rendered
  | "diagnostics" // refused with diagnostics (the expected fate of most fuzzed input)
  | "crash" // an exception escaped a phase or a renderer
  | "slow" // over SLOW_MS in all
  | "degenerate" // accepted, but a stage, layer or count is empty or not finite
  | "unescaped" // an output lets the spec's path or names out of their context
  | "invalid-json" // the JSON report breaks its own schema
  | "roundtrip"; // printing changed what the spec means, or is not idempotent

export const FAILURES: readonly Outcome[] = ["crash", "slow", "degenerate", "unescaped", "invalid-json", "roundtrip"];

/**
 * A case over this is "slow": every phase together should take milliseconds. Measured in
 * the process's CPU time (user + system), not wall time, so that what the harness calls
 * slow is the case's own work, not time the machine gave to other processes: a run beside
 * other work (or two runs on two cores) classifies each case as a run alone would.
 */
export const SLOW_MS = 1000;

export interface CaseResult {
  readonly outcome: Outcome;
  readonly detail: string;
  /** CPU milliseconds the case took (see SLOW_MS). */
  readonly ms: number;
}

/**
 * The path the harness gives every case: hostile on purpose, since reports and generated
 * modules print the spec's path in comments, HTML and SVG.
 */
export const HOSTILE_PATH = "fuzz/x--><script>alert(1)</script><!--.effnet";

/** Runs one spec text through every phase and classifies the result. */
export function runCase(text: string, path = HOSTILE_PATH, slowMs = SLOW_MS): CaseResult {
  const start = process.cpuUsage();
  let result: Omit<CaseResult, "ms">;
  try {
    result = classify({ path, text });
  } catch (e) {
    result = { outcome: "crash", detail: (e as Error)?.stack?.split("\n").slice(0, 3).join(" | ") ?? String(e) };
  }
  const used = process.cpuUsage(start);
  const ms = (used.user + used.system) / 1000;
  if (result.outcome !== "crash" && ms > slowMs) return { outcome: "slow", detail: `${ms.toFixed(0)} ms of CPU`, ms };
  return { ...result, ms };
}

const NOT_A_NUMBER = /\bNaN\b|Infinity/;

function classify(file: SourceFile): Omit<CaseResult, "ms"> {
  const compilation = compile(file);
  const roundtrip = checkRoundTrip(file, compilation);
  if (roundtrip) return { outcome: "roundtrip", detail: roundtrip };
  const sound =
    compilation.spec && compilation.diagnostics.every((d) => d.severity !== "error" || d.code === "EFF4001");
  if (!sound) return { outcome: "diagnostics", detail: compilation.diagnostics.map((d) => d.code).join(",") };

  const degenerate = findDegenerate(compilation);
  if (degenerate) return { outcome: "degenerate", detail: degenerate };

  const doc = audit(compilation);
  const errors = auditSchemaErrors(JSON.parse(renderReport(doc, "json")));
  if (errors.length) return { outcome: "invalid-json", detail: errors.slice(0, 3).join("; ") };
  const outputs: [string, string][] = [
    ["md", renderReport(doc, "md")],
    ["html", renderReport(doc, "html")],
    ...applicablePlots(doc).map((plot): [string, string] => [`svg:${plot}`, plotFile(doc, plot)]),
    ...compilation.variants.flatMap((v): [string, string][] => {
      const info = {
        source: file.path,
        command: ["npx", "effnet", "compile", file.path],
        coefficients: { width: v.variant.width, depth: v.variant.depth, resolution: v.variant.resolution },
      };
      return [
        [`ts:${v.variant.name}`, emitModule(v.ir, v.cost, info, "ts")],
        [`ts:${v.variant.name}.js`, emitModule(v.ir, v.cost, info, "js")],
        [`ts:${v.variant.name}.d.ts`, emitDeclarations(v.ir, v.cost, info)],
      ];
    }),
  ];
  for (const [format, content] of outputs) {
    const leak = findLeak(format, content);
    if (leak) return { outcome: "unescaped", detail: `${format}: ${leak}` };
    // A network may be named NaN (it is a valid name): only a NaN the spec did not write is a
    // fault. The detail avoids both words: a saved reproducer's first line carries it, and with
    // them in its text it would no longer reproduce.
    if (!format.startsWith("ts:") && !NOT_A_NUMBER.test(file.text) && NOT_A_NUMBER.test(content))
      return { outcome: "degenerate", detail: `${format} prints a number that is not finite` };
  }
  return { outcome: compilation.diagnostics.length ? "diagnostics" : "ok", detail: "" };
}

/**
 * The printer must keep what a spec means: a text without syntax errors prints to one that
 * parses without errors, compiles to the same diagnostics (by code), and prints to itself.
 */
function checkRoundTrip(file: SourceFile, compilation: Compilation): string | undefined {
  const parsed = parse(file);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return undefined;
  const printed = print(parsed.document);
  const reparsed = parse({ path: file.path, text: printed });
  if (reparsed.diagnostics.some((d) => d.severity === "error"))
    return `printed text has syntax errors: ${reparsed.diagnostics.map((d) => d.code).join(",")}`;
  if (print(reparsed.document) !== printed) return "printing is not idempotent";
  const codes = (c: Compilation) =>
    c.diagnostics
      .map((d) => d.code)
      .sort()
      .join(",");
  const again = compile({ path: file.path, text: printed });
  if (codes(again) !== codes(compilation)) return `diagnostics changed: [${codes(compilation)}] → [${codes(again)}]`;
  return undefined;
}

function findDegenerate(compilation: Compilation): string | undefined {
  for (const v of compilation.variants) {
    const empty = v.scaled.stages.find((s) => !(s.layers.value >= 1 && s.channels.value >= 1));
    if (empty)
      return `${v.variant.name}: stage ${empty.stage.index} has ${empty.layers.value} layers × ${empty.channels.value} channels`;
    for (const layer of v.ir.layers) {
      if (layer.outputShape.some((d) => !(Number.isInteger(d) && d >= 1)))
        return `${v.variant.name}: ${layer.name} outputs [${layer.outputShape.join(", ")}]`;
    }
    const numbers = [v.cost.params.total, v.cost.macs, v.cost.flops, v.cost.memory.activationBytesPeak];
    if (numbers.some((n) => !Number.isFinite(n))) return `${v.variant.name}: a count is not finite`;
    if (v.cost.params.trainable === 0) return `${v.variant.name}: nothing to train (0 parameters)`;
  }
  return undefined;
}

/** Whether an output lets the hostile path out of its context: a live tag, or a comment it ends early. */
function findLeak(format: string, content: string): string | undefined {
  if (format.startsWith("ts:")) {
    // The path appears in line comments and string literals only.
    const lines = content.split("\n").filter((l) => l.includes("alert(1)"));
    const bad = lines.find((l) => !/^\s*\/\/|^\s*\*/.test(l) && !l.includes(JSON.stringify(HOSTILE_PATH)));
    return bad ? `path outside a comment or string: ${bad.trim().slice(0, 80)}` : undefined;
  }
  const live = format === "md" ? content.replace(/`[^`\n]*`/g, "") : content;
  if (live.includes("<script>")) return "a live <script> tag";
  for (const [, body] of content.matchAll(/<!--([\s\S]*?)-->/g))
    if (body.includes("--")) return "a comment that contains `--`";
  return undefined;
}

// ---- generators

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/** Numbers users and fuzzers type: ordinary, boundary and absurd. */
const NUMBERS = [
  "0",
  "1",
  "2",
  "3",
  "8",
  "0.5",
  "0.01",
  "1.0",
  "1.2",
  "-1",
  "1e308",
  "1e-308",
  "99999999",
  "2.5",
  "NaN",
];
/** Words of the language, its vocabulary and its punctuation. */
const WORDS = [
  "MBConv6",
  "MBConv1",
  "k3x3",
  "k5x5",
  "Conv3x3",
  "Conv1x1",
  "MaxPool3x3",
  "Bottleneck",
  "DSConv",
  "FusedMBConv4",
  "Pooling",
  "FC",
  "&",
  ",",
  "round",
  "ceil",
  "floor",
  "nearest",
  "multiple",
  "keep",
  "fixed",
  "stages",
  "phi",
  "variant",
  "budget",
  "macs",
  "params",
  "<=",
  "relu6",
  "swish",
  "dropout",
  "classes",
  "input",
  "{",
  "}",
  "|",
  "-",
  "224x224",
  "1x1",
  "×",
  "#",
];

/** The shipped specs and the report golden: realistic starting points for mutation. */
export function seedSpecs(root = "."): string[] {
  const specs = readdirSync(join(root, "specs"))
    .filter((f) => f.endsWith(".effnet"))
    .sort()
    .map((f) => readFileSync(join(root, "specs", f), "utf8"));
  return [...specs, readFileSync(join(root, "test/report/golden/tiny.effnet"), "utf8")];
}

/** One to four edits of a real spec: tokens replaced by numbers or vocabulary, lines deleted, duplicated or swapped, bytes inserted, a cut. */
export function mutate(text: string, rng: Rng): string {
  let out = text;
  for (let k = int(rng, 1, 4); k > 0; k--) {
    const lines = out.split("\n");
    switch (int(rng, 0, 6)) {
      case 0:
      case 1: {
        // Replace one token (a run of non-space characters) by a number or a word.
        const tokens = [...out.matchAll(/[^\s|]+/g)];
        if (!tokens.length) break;
        const t = pick(rng, tokens);
        const replacement = rng() < 0.5 ? pick(rng, NUMBERS) : pick(rng, WORDS);
        out = out.slice(0, t.index) + replacement + out.slice(t.index! + t[0].length);
        break;
      }
      case 2:
        lines.splice(int(rng, 0, lines.length - 1), 1);
        out = lines.join("\n");
        break;
      case 3: {
        const i = int(rng, 0, lines.length - 1);
        lines.splice(i, 0, lines[i]);
        out = lines.join("\n");
        break;
      }
      case 4: {
        const [i, j] = [int(rng, 0, lines.length - 1), int(rng, 0, lines.length - 1)];
        [lines[i], lines[j]] = [lines[j], lines[i]];
        out = lines.join("\n");
        break;
      }
      case 5: {
        const at = int(rng, 0, out.length);
        const bytes = Array.from({ length: int(rng, 1, 4) }, () => String.fromCharCode(int(rng, 0, 255))).join("");
        out = out.slice(0, at) + bytes + out.slice(at);
        break;
      }
      case 6:
        out = out.slice(0, int(rng, 0, out.length));
        break;
    }
  }
  return out;
}

/** A random well-formed spec from the grammar: a stage table of real operators, scaling rules, variants. */
export function generate(rng: Rng): string {
  const resolution = pick(rng, [8, 16, 32, 33, 64, 224]);
  const body = [
    "MBConv1, k3x3",
    "MBConv6, k3x3",
    "MBConv6, k5x5",
    "MBConv4, k3x3",
    "FusedMBConv4, k3x3",
    "DSConv, k3x3",
  ];
  const stages: string[] = [`    | 1     | Conv3x3 | ${resolution}x${resolution} | ${int(rng, 1, 64)} | 1 |`];
  let current = resolution;
  const count = int(rng, 0, 6);
  for (let i = 0; i < count; i++) {
    const next = rng() < 0.4 && current >= 2 ? Math.ceil(current / 2) : current;
    stages.push(
      `    | ${i + 2} | ${pick(rng, body)} | ${current}x${current} | ${int(rng, 1, 200)} | ${int(rng, 0, 5)} |`,
    );
    current = next;
  }
  if (rng() < 0.8)
    stages.push(`    | ${count + 2} | Conv1x1 & Pooling & FC | ${current}x${current} | ${int(rng, 1, 2000)} | 1 |`);
  const rule = () =>
    pick(rng, ["round ceil", "round floor", "round nearest", "round multiple 8", "round multiple 8 keep 0.9"]);
  const coefficient = () => pick(rng, ["0.5", "1", "1.1", "1.2", "1.15", "2", "0.01", "3.7"]);
  const variants = Array.from(
    { length: int(rng, 1, 3) },
    (_, i) =>
      `    | V${i} | ${coefficient()} | ${coefficient()} | ${pick(rng, [resolution, 1, 7, 8, 300, 5000])} | ${pick(rng, ["0.2", "0", "0.99"])} |`,
  );
  return `network Fuzz {
  input ${resolution}x${resolution}x3
  classes ${pick(rng, [1, 2, 10, 1000])}
  activation ${pick(rng, ["swish", "relu", "relu6"])}
  squeeze_excite ${pick(rng, ["0.25", "0", "1"])}

  stages {
    | Stage | Operator | Resolution | Channels | Layers |
${stages.join("\n")}
  }

  scaling compound {
    depth alpha ${pick(rng, ["1.2", "1", "1.5"])} ${rule()} fixed stages 1
    width beta ${pick(rng, ["1.1", "1", "1.3"])} ${rule()}
    resolution gamma ${pick(rng, ["1.15", "1", "1.3"])} ${rule()}
  }

  variants {
    | Name | Width | Depth | Resolution | Dropout |
${variants.join("\n")}
  }
  variant P phi ${pick(rng, ["1", "-1", "0", "3", "8", "40"])}
${rng() < 0.4 ? overrides(rng, stages.length) : ""}}
`;
}

/** Per-variant stage overrides for a generated spec (src/semantics/overrides.ts): random stages, layers (0 too) and widths. */
function overrides(rng: Rng, stageCount: number): string {
  const stages = Array.from({ length: int(rng, 1, 3) }, () => int(rng, 1, stageCount + 1));
  const list = (value: () => string) => (rng() < 0.3 ? "-" : rng() < 0.5 ? value() : stages.map(value).join(", "));
  return `
  overrides {
    | Variant | Stages | Layers | Channels | Operator |
    | ${pick(rng, ["V0", "V1", "P", "V9"])} | ${stages.join(", ")} | ${list(() => String(int(rng, 0, 4)))} | ${list(() => String(int(rng, 1, 100)))} | ${rng() < 0.7 ? "-" : pick(rng, ["MBConv6, k3x3", "DSConv, k3x3", "Conv3x3", "Conv1x1 & Pooling & FC"])} |
  }
`;
}

/** The spec text of case `index` of a run with `seed`: mutations, grammar-built specs and random bytes. */
export function caseText(seed: number, index: number, seeds: readonly string[]): string {
  const rng = random((seed * 1_000_003 + index) >>> 0);
  const kind = rng();
  if (kind < 0.6) return mutate(pick(rng, seeds), rng);
  if (kind < 0.9) return mutate(generate(rng), rng);
  if (kind < 0.95) return generate(rng);
  return Array.from({ length: int(rng, 0, 200) }, () => String.fromCharCode(int(rng, 0, 0x2fff))).join("");
}

/**
 * Shrinks a failing text line by line (and then character by character on short texts)
 * while it still fails with the same outcome: a reproducer small enough to read.
 */
export function minimize(text: string, outcome: Outcome, path = HOSTILE_PATH, budget = 300): string {
  const fails = (t: string) => runCase(t, path).outcome === outcome;
  let lines = text.split("\n");
  let tries = 0;
  for (let changed = true; changed && tries < budget;) {
    changed = false;
    for (let i = lines.length - 1; i >= 0 && tries < budget; i--) {
      const candidate = [...lines.slice(0, i), ...lines.slice(i + 1)];
      tries++;
      if (fails(candidate.join("\n"))) {
        lines = candidate;
        changed = true;
      }
    }
  }
  return lines.join("\n");
}
