import type { CommandDef } from "../command.ts";
import { auditCommand } from "./audit.ts";
import { checkCommand } from "./check.ts";
import { benchModelCommand } from "./bench-model.ts";
import { compileCommand } from "./compile.ts";
import { fmtCommand } from "./fmt.ts";
import { diffCommand } from "./diff.ts";
import { reportCommand } from "./report.ts";
import { solveCommand } from "./solve.ts";
import { searchCommand } from "./search.ts";
import { predictCommand } from "./predict.ts";
import { trainCommand } from "./train.ts";
import { weightsExportCommand, weightsImportCommand } from "./weights.ts";
import { camCommand } from "./cam.ts";

/** The one table of commands, in the order `effnet --help` lists them. */
export const COMMANDS: readonly CommandDef[] = [
  checkCommand,
  auditCommand,
  reportCommand,
  diffCommand,
  solveCommand,
  searchCommand,
  fmtCommand,
  compileCommand,
  trainCommand,
  predictCommand,
  benchModelCommand,
  weightsImportCommand,
  weightsExportCommand,
  camCommand,
];
