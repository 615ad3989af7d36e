import type { Io } from "../../src/cli/command.ts";
import { main } from "../../src/cli/main.ts";

/** Runs the effnet CLI in-process, as a terminal-less caller (no colour, plain progress), capturing its output. */
export async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: Io = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), color: false, interactive: false };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
