// Preloaded with `node --import` by test/cli-limits.test.ts: when the process ends, writes
// its peak resident memory (kilobytes, getrusage's ru_maxrss) to the file MAX_RSS_FILE names.
import { writeFileSync } from "node:fs";

process.on("exit", () => writeFileSync(process.env.MAX_RSS_FILE, String(process.resourceUsage().maxRSS)));
