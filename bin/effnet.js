#!/usr/bin/env node
// The effnet command: the sources compiled to JavaScript in dist/, which `npm run build`
// writes (`npm ci` and `npm pack` run it as the `prepare` script), so no TypeScript
// loader runs at run time. `npm run effnet -- ARGS` runs the sources instead.
import { existsSync } from "node:fs";

const entry = new URL("../dist/lib/run.js", import.meta.url);
if (existsSync(entry)) await import(entry.href);
else {
  process.stderr.write("effnet: dist/ is missing: run `npm run build` (or `npm ci`) in the effnet checkout first\n");
  process.exitCode = 70;
}
