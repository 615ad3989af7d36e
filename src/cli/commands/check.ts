import { compileFile, EXIT, type CommandDef } from "../command.ts";

export const checkCommand: CommandDef = {
  name: "check",
  summary: "parse, check, scale and cost specs; print diagnostics only",
  usage: "effnet check FILE...",
  details:
    "Runs every phase up to the cost (syntax, semantics, scaling of every variant, size limits and budgets, each variant's parameters and multiply-adds from the operators' closed forms where they cover the spec, else from its layers; a few milliseconds) and prints every error and warning with its code, file:line:col and the source line. Nothing is written.",
  positionals: { min: 1, max: Infinity },
  options: {},
  examples: ["effnet check specs/*.effnet"],
  run: async ({ positionals, io }) => {
    let failed = false;
    for (const path of positionals) {
      const { compilation } = compileFile(path, { diagnosticsOnly: true }, io);
      if (!compilation?.ok) failed = true;
      else if (compilation.diagnostics.length === 0)
        io.err(
          `${path}: ok (${plural(compilation.spec!.stages.length, "stage")}, ${plural(compilation.spec!.variants.length, "variant")})\n`,
        );
    }
    return failed ? EXIT.errors : EXIT.ok;
  },
};

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
