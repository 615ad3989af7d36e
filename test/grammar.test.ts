import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grammarFiles } from "../grammar/describe.ts";
import { compile } from "../src/compile.ts";
import { DIAGNOSTICS } from "../src/diagnostics/codes.ts";
import { ACTIVATIONS, MODIFIERS, OPERATORS } from "../src/operators/table.ts";
import { NETWORK_SETTINGS } from "../src/semantics/check.ts";
import { SCALING_VOCABULARY } from "../src/semantics/scaling.ts";
import { CONVENTIONS, PADDING_RULES, PREPROCESSING } from "../src/vocabulary/conventions.ts";
import { ROUNDING_PRESETS } from "../src/vocabulary/rounding.ts";
import { SHIPPED_SPECS } from "./report/helpers.ts";

describe("grammar/ (generated from src/syntax and the vocabulary tables)", () => {
  it.each(grammarFiles().map((f) => [f.path, f.content] as const))("%s is fresh", (path, content) => {
    let onDisk = "";
    try {
      onDisk = readFileSync(path, "utf8");
    } catch {
      // reported below
    }
    expect(onDisk === content, `${path} is stale: run \`npm run generate:grammar\` and commit the result`).toBe(true);
  });
});

/**
 * Generated is not enough: a generator that drops or mangles an entry is as stale as a
 * hand-written list. These hold the generated files to the tables entry by entry, so a new
 * operator, activation, setting, padding rule, preset or diagnostic that the generated files
 * do not carry fails here.
 */
describe("grammar/ covers every table entry", () => {
  const file = (path: string) => grammarFiles().find((f) => f.path === path)!.content;
  const textMate = JSON.parse(file("grammar/effnet.tmLanguage.json")) as {
    patterns: { name: string; match: string }[];
  };
  /** A TextMate scope's match as a JS regex over one whole word (Oniguruma's `(?i)` as the `i` flag). */
  const scope = (name: string) => {
    const match = textMate.patterns.find((p) => p.name === name)!.match;
    const caseless = match.startsWith("(?i)");
    const source = caseless ? match.slice(4) : match;
    return new RegExp(`^(?:${source.replace(/^\\b|\\b$/g, "")})$`, caseless ? "iu" : "u");
  };
  const operatorWord = scope("support.function.operator.effnet");
  const number = /^[-+]?\d+(?:\.\d+)?$/;
  /** The words of an operator cell as the editor sees them: `Conv1x1 & Pooling & FC 1280 & FC` → Conv1x1, Pooling, FC, FC. */
  const words = (cell: string) => cell.split(/[,&\s]+/).filter((w) => w !== "" && !number.test(w));

  // Every operator cell of every shipped spec, as written, and each table entry's own example.
  const shippedCells = SHIPPED_SPECS.flatMap((path) => {
    const text = readFileSync(path, "utf8");
    const { spec } = compile({ path, text }, { checkOnly: true });
    return spec!.stages.map((s) => ({
      where: `${path} stage ${s.index}`,
      cell: text.slice(s.spans.operator.start, s.spans.operator.end),
    }));
  });
  const examples = [
    ...OPERATORS.map((o) => ({ where: `operator ${o.name}`, cell: o.syntax })),
    ...MODIFIERS.map((m) => ({ where: `modifier ${m.syntax}`, cell: m.syntax.split(" ")[0] })),
  ];

  it.each([...examples, ...shippedCells])("highlights every word of $where's operator cell `$cell`", ({ cell }) => {
    expect(words(cell).length).toBeGreaterThan(0);
    for (const w of words(cell)) expect(operatorWord.test(w), `${w} in \`${cell}\``).toBe(true);
    // …in any case, as the parser reads it.
    for (const w of words(cell)) expect(operatorWord.test(w.toUpperCase()), w.toUpperCase()).toBe(true);
  });

  it("highlights MobileNetV3's plain `MBConv`, BasicBlock, Bottleneck, MaxPool and the hidden-layer head", () => {
    for (const w of ["MBConv", "BasicBlock", "Bottleneck", "MaxPool3x3", "FC", "Pooling", "k5x5"])
      expect(operatorWord.test(w), w).toBe(true);
    for (const w of ["MBConvx", "Groups", "relu"]) expect(operatorWord.test(w), w).toBe(false);
  });

  it("highlights every activation and every setting and scaling word", () => {
    const activation = scope("support.constant.activation.effnet");
    for (const a of ACTIVATIONS) expect(activation.test(a), a).toBe(true);
    const keyword = scope("keyword.control.effnet");
    for (const k of [...Object.keys(NETWORK_SETTINGS), ...SCALING_VOCABULARY.map((v) => v.word)])
      expect(keyword.test(k), k).toBe(true);
  });

  it("vocabulary.md names every operator, activation, setting, convention, padding rule, preprocessing, preset and code", () => {
    const doc = file("grammar/vocabulary.md");
    const named = (word: string) => doc.includes(`\`${word}\``) || doc.includes(`| ${word} |`);
    const entries = [
      ...OPERATORS.flatMap((o) => [o.name, o.syntax]),
      ...ACTIVATIONS,
      ...Object.keys(NETWORK_SETTINGS),
      ...Object.keys(CONVENTIONS),
      ...Object.keys(PADDING_RULES),
      ...Object.keys(ROUNDING_PRESETS),
      ...Object.keys(DIAGNOSTICS),
    ];
    for (const e of entries) expect(named(e), e).toBe(true);
    for (const p of Object.values(PREPROCESSING)) expect(doc.includes(p.summary), p.summary).toBe(true);
  });
});
