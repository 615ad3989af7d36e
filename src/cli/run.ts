/** The `effnet` process: bin/effnet.js runs this module's compiled form (dist/cli/run.js). */
import { EXIT } from "./exit.ts";
import { main } from "./main.ts";

// A reader that stops early (`effnet audit … --json | head`) closes the pipe: the rest of
// the output has nowhere to go, so stop quietly as `git log | head` does, instead of
// Node's unhandled EPIPE trace. Any other write error is the edge's one-line internal error.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    process.stderr.write(`effnet: cannot write the output: ${e.message}\n`);
    process.exit(EXIT.internal);
  });

process.exitCode = await main(process.argv.slice(2));
