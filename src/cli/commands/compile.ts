import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Dialect } from "../../codegen/emit.ts";
import { DEFAULT_OUT_DIR, generateModules, type GeneratedModule } from "../../codegen/generate.ts";
import { type CommandDef, compileFile, EXIT, recoverOutputs, VARIANT_OPTIONS, writeOutputs } from "../command.ts";

const DIALECTS: readonly Dialect[] = ["ts", "js"];

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export const compileCommand: CommandDef = {
  name: "compile",
  summary: "emit one tfjs module per variant (buildModel + metadata), TypeScript or JavaScript",
  usage: "effnet compile FILE... [--variant NAME] [--emit ts|js] [--out DIR] [--check]",
  details:
    "Writes <DIR>/<network>/<variant>.ts (lower-cased; DIR defaults to generated/), or with --emit js an ES module <variant>.js for plain Node and bundlers with its types in <variant>.d.ts beside it; laid out as prettier would and byte-for-byte deterministic, naming the spec relative to the module and repeating the command that wrote it. Each module exports buildModel(options?) — a tf.LayersModel built with the tfjs layers API, options classes, resolution, dropout, includeTop — and the audit's metadata. All files are written or none: a spec with errors writes nothing. --check writes nothing and exits 1 naming every module that differs from what the specs produce.",
  positionals: { min: 1, max: Infinity },
  options: {
    ...VARIANT_OPTIONS,
    out: { type: "string", short: "o", value: "DIR", description: `output directory (default ${DEFAULT_OUT_DIR}/)` },
    emit: {
      type: "string",
      short: "e",
      value: "ts|js",
      description: "TypeScript modules (default), or JavaScript ES modules with a .d.ts beside each",
    },
    check: {
      type: "boolean",
      short: "c",
      description: "write nothing; exit 1 if any module on disk is missing or stale",
    },
  },
  examples: [
    "effnet compile specs/efficientnet.effnet specs/mobilenetv2.effnet",
    "effnet compile specs/efficientnet.effnet --variant B0 --out models",
    "effnet compile specs/efficientnet.effnet --variant B0 --emit js --out models",
    "effnet compile --check specs/*.effnet",
  ],
  run: async (inv) => {
    const variants = inv.list("variant");
    const outDir = inv.string("out") ?? DEFAULT_OUT_DIR;
    const emit = inv.choice("emit", DIALECTS, "ts");
    const allowHuge = inv.options["allow-huge"] === true;
    const modules: GeneratedModule[] = [];
    let failed = false;
    // Compile everything first, so that an error in any spec writes nothing at all.
    for (const path of inv.positionals) {
      const { compilation } = compileFile(path, { variants, allowHuge }, inv.io);
      if (!compilation?.ok) {
        failed = true;
        continue;
      }
      modules.push(...generateModules(compilation, { outDir, emit: emit as Dialect, variants, allowHuge }));
    }
    if (failed) {
      inv.io.err("nothing written: fix the errors above first\n");
      return EXIT.errors;
    }
    // A write killed half-way is rolled back first (src/files/write.ts), so that what is compared
    // below is the old set of modules, not a mixture of old and new.
    if (!recoverOutputs(new Set(modules.map((m) => dirname(m.path))), inv.io)) return EXIT.errors;
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
    if (!writeOutputs(changed, inv.io)) return EXIT.errors;
    for (const m of modules) inv.io.err(`${changed.includes(m) ? "wrote" : "unchanged"} ${m.path}\n`);
    return EXIT.ok;
  },
};
