import type { CommandDef } from "../command.ts";

/**
 * One entry of the command table: what `effnet --help` lists, and how to load the rest.
 * The command's module (its options, help text and `run`) and everything it imports
 * (the compiler, tfjs, prettier, ajv, image codecs) load only when that command runs or
 * its help is asked for, so `effnet --help` and `effnet check` do not pay for tfjs.
 * `summary` repeats the loaded definition's; test/cli.test.ts checks that they agree.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<CommandDef>;
}

/** The one table of commands, in the order `effnet --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "check",
    summary: "parse, check, scale and cost specs; print diagnostics only",
    load: async () => (await import("./check.ts")).checkCommand,
  },
  {
    name: "audit",
    summary: "parameters, multiply-adds and memory of every variant, beside the paper's figures",
    load: async () => (await import("./audit.ts")).auditCommand,
  },
  {
    name: "report",
    summary: "write the audit as JSON (schema-checked), Markdown, single-file HTML with plots, or SVG",
    load: async () => (await import("./report.ts")).reportCommand,
  },
  {
    name: "diff",
    summary: "compare two variants, of one spec or two, stage by stage",
    load: async () => (await import("./diff.ts")).diffCommand,
  },
  {
    name: "solve",
    summary: "find the largest φ whose compound-scaled, rounded network fits a budget",
    load: async () => (await import("./solve.ts")).solveCommand,
  },
  {
    name: "search",
    summary: "grid-search α, β, γ at φ = 1 under α·β²·γ² ≈ 2 (the paper's step 1), ranked by exact cost",
    load: async () => (await import("./search.ts")).searchCommand,
  },
  {
    name: "fmt",
    summary: "print specs in canonical form (aligned tables, comments kept)",
    load: async () => (await import("./fmt.ts")).fmtCommand,
  },
  {
    name: "compile",
    summary: "emit one tfjs module per variant (buildModel + metadata), TypeScript or JavaScript",
    load: async () => (await import("./compile.ts")).compileCommand,
  },
  {
    name: "train",
    summary: "train a compiled variant on an image folder or the built-in shapes data set, and save it",
    load: async () => (await import("./train.ts")).trainCommand,
  },
  {
    name: "predict",
    summary: "classify images with a model saved by `effnet train`",
    load: async () => (await import("./predict.ts")).predictCommand,
  },
  {
    name: "eval",
    summary: "measure a saved model on labelled images: accuracy, per-class accuracy, confusion matrix",
    load: async () => (await import("./eval.ts")).evalCommand,
  },
  {
    name: "bench-model",
    summary: "measure a variant's forward latency and training-step time per backend",
    load: async () => (await import("./bench-model.ts")).benchModelCommand,
  },
  {
    name: "export",
    summary:
      "an inference-only model: batch norm folded, activations fused, dropout removed, weights float32/16 or uint8",
    load: async () => (await import("./export.ts")).exportCommand,
  },
  {
    name: "weights import",
    summary: "load a reference's weights (torchvision safetensors) into a variant's model and save it",
    load: async () => (await import("./weights.ts")).weightsImportCommand,
  },
  {
    name: "weights export",
    summary: "write a saved model's weights as a reference's state dict (torchvision safetensors)",
    load: async () => (await import("./weights.ts")).weightsExportCommand,
  },
  {
    name: "cam",
    summary: "class activation maps: where in each image a saved model sees its class (Figure 7)",
    load: async () => (await import("./cam.ts")).camCommand,
  },
];
