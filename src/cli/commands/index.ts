import type { CommandDef } from "../command.ts";
import { auditCommand } from "./audit.ts";
import { checkCommand } from "./check.ts";
import { diffCommand } from "./diff.ts";
import { fmtCommand } from "./fmt.ts";
import { reportCommand } from "./report.ts";
import { solveCommand } from "./solve.ts";

/** The one table of commands, in the order `effnet --help` lists them. */
export const COMMANDS: readonly CommandDef[] = [checkCommand, auditCommand, reportCommand, diffCommand, solveCommand, fmtCommand];
