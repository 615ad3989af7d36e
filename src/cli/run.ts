/** The `effnet` process: bin/effnet.js runs this module's compiled form (dist/cli/run.js). */
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
