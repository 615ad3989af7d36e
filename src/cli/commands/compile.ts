import { readFileSync } from "node:fs";
import { DEFAULT_OUT_DIR, displayPath, generateModules, type GeneratedModule } from "../../codegen/generate.ts";
import {
  compileFile,
  EXIT,
  listOption,
  stringOption,
  VARIANT_OPTIONS,
  writeFilesAtomically,
  reportDiagnostics,
  type CommandDef,
} from "../command.ts";

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export const compileCommand: CommandDef = {
  name: "compile",
  summary: "emit one TypeScript tfjs module per variant (buildModel + metadata)",
  usage: "effnet compile FILE... [--variant NAME] [--out DIR] [--check]",
  details:
    "Writes <DIR>/<network>/<variant>.ts (lower-cased; DIR defaults to generated/), formatted with prettier and byte-for-byte deterministic. Each module exports buildModel(options?) — a tf.LayersModel built with the tfjs layers API, options classes, resolution, dropout, includeTop — and the audit's metadata. All files are written or none: a spec with errors writes nothing. --check writes nothing and exits 1 naming every module that differs from what the specs produce.",
  positionals: { min: 1, max: Infinity },
  options: {
    ...VARIANT_OPTIONS,
    out: { type: "string", short: "o", value: "DIR", description: `output directory (default ${DEFAULT_OUT_DIR}/)` },
    check: {
      type: "boolean",
      short: "c",
      description: "write nothing; exit 1 if any module on disk is missing or stale",
    },
  },
  examples: [
    "effnet compile specs/efficientnet.effnet specs/mobilenetv2.effnet",
    "effnet compile specs/efficientnet.effnet --variant B0 --out models",
    "effnet compile --check specs/*.effnet",
  ],
  run: async (inv) => {
    const variants = listOption(inv, "variant");
    const outDir = stringOption(inv, "out") ?? DEFAULT_OUT_DIR;
    const modules: GeneratedModule[] = [];
    let failed = false;
    // Compile everything first, so that an error in any spec writes nothing at all.
    for (const path of inv.positionals) {
      const { compilation } = compileFile(path, { variants, allowHuge: inv.options["allow-huge"] === true }, inv.io);
      if (!compilation?.ok) {
        failed = true;
        continue;
      }
      modules.push(...(await generateModules(compilation, { outDir, sourcePath: displayPath(path) })));
    }
    if (failed) {
      inv.io.err("nothing written: fix the errors above first\n");
      return EXIT.errors;
    }
    const changed = modules.filter((m) => readIfExists(m.path) !== m.content);
    if (inv.options.check) {
      for (const m of changed) inv.io.err(`${m.path}: ${readIfExists(m.path) === undefined ? "missing" : "stale"}\n`);
      if (changed.length)
        inv.io.err(
          `run \`effnet compile ${inv.positionals.join(" ")}${outDir === DEFAULT_OUT_DIR ? "" : ` --out ${outDir}`}\` to regenerate\n`,
        );
      else inv.io.err(`${modules.length} module${modules.length === 1 ? "" : "s"} up to date\n`);
      return changed.length ? EXIT.errors : EXIT.ok;
    }
    const errors = writeFilesAtomically(changed);
    if (errors.length) {
      reportDiagnostics(errors, undefined, inv.io, false);
      return EXIT.errors;
    }
    for (const m of modules) inv.io.err(`${changed.includes(m) ? "wrote" : "unchanged"} ${m.path}\n`);
    return EXIT.ok;
  },
};
