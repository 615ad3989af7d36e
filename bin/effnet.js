#!/usr/bin/env node
// The effnet command: the sources compiled to JavaScript in dist/, which `npm run build`
// writes (`npm ci` and `npm pack` run it as the `prepare` script), so no TypeScript
// loader runs at run time. `npm run effnet -- ARGS` runs the sources instead.
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

// A command is a short process that keeps what it builds (an audit document, 27 modules) to
// the end, so nearly everything it allocates survives, and V8's young generation, starting
// at 1 MB and doubling after a scavenge, copies the same objects again at each of them.
// Growing it 16× at a time: `node --trace-gc bin/effnet.js audit specs/efficientnet.effnet
// --json` shows 9 collections instead of 15, about half the pause time. V8 reads this flag
// while running; `--min-semi-space-size` is read only at start-up, so it would need `node`
// flags, which a bin script cannot pass portably (`env -S` is missing from busybox's env
// and from npm's Windows shims).
setFlagsFromString("--semi-space-growth-factor=16");

const entry = new URL("../dist/lib/run.js", import.meta.url);
if (existsSync(entry)) await import(entry.href);
else {
  process.stderr.write("effnet: dist/ is missing: run `npm run build` (or `npm ci`) in the effnet checkout first\n");
  process.exitCode = 70;
}
