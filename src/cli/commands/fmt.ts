import { parse } from "../../syntax/parse.ts";
import { print } from "../../syntax/print.ts";
import { hasErrors } from "../../diagnostics/diagnostic.ts";
import { EXIT, readSource, reportDiagnostics, writeOutputs, type CommandDef } from "../command.ts";

export const fmtCommand: CommandDef = {
  name: "fmt",
  summary: "print specs in canonical form (aligned tables, comments kept)",
  usage: "effnet fmt FILE... [--write | --check]",
  details: "Without flags the formatted text goes to stdout. A file with syntax errors is never rewritten.",
  positionals: { min: 1, max: Infinity },
  options: {
    write: { type: "boolean", short: "w", description: "rewrite the files in place" },
    check: { type: "boolean", short: "c", description: "exit 1 and name the files that are not formatted" },
  },
  conflicts: [["write", "check"]],
  examples: ["effnet fmt --check specs/*.effnet", "effnet fmt --write specs/mobilenetv2.effnet"],
  run: async ({ positionals, options, io }) => {
    let status: number = EXIT.ok;
    for (const path of positionals) {
      const { file, diagnostics } = readSource(path);
      if (!file) {
        reportDiagnostics(diagnostics, undefined, io, false);
        status = EXIT.errors;
        continue;
      }
      const parsed = parse(file);
      if (hasErrors(parsed.diagnostics)) {
        reportDiagnostics(parsed.diagnostics, file, io);
        status = EXIT.errors;
        continue;
      }
      const formatted = print(parsed.document);
      if (options.check) {
        if (formatted !== file.text) {
          io.err(`${path}: not formatted (run \`effnet fmt --write ${path}\`)\n`);
          status = EXIT.errors;
        }
      } else if (options.write) {
        if (formatted !== file.text) {
          if (writeOutputs([{ path, content: formatted }], io)) io.err(`formatted ${path}\n`);
          else status = EXIT.errors;
        }
      } else io.out(formatted);
    }
    return status;
  },
};
