import { compileFile, EXIT, type CommandDef } from "../command.ts";

export const checkCommand: CommandDef = {
  name: "check",
  summary: "parse and check specs, print diagnostics only",
  usage: "effnet check FILE...",
  details:
    "Runs the syntax and semantic phases and prints every error and warning with its code, file:line:col and the source line. Nothing is written.",
  positionals: { min: 1, max: Infinity },
  options: {},
  examples: ["effnet check specs/*.effnet"],
  run: async ({ positionals, io }) => {
    let failed = false;
    for (const path of positionals) {
      const { compilation } = compileFile(path, { checkOnly: true }, io);
      if (!compilation?.ok) failed = true;
      else if (compilation.diagnostics.length === 0)
        io.err(
          `${path}: ok (${compilation.spec!.stages.length} stages, ${compilation.spec!.variants.length} variants)\n`,
        );
    }
    return failed ? EXIT.errors : EXIT.ok;
  },
};
