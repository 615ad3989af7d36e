import type { Compilation, CompiledVariant } from "../../compile.ts";
import { diffVariants, renderDiff } from "../../report/diff.ts";
import { DEFAULT_WIDTH, MIN_WIDTH } from "../../report/table.ts";
import { compileFile, EXIT, UsageError, type CommandDef, type Io } from "../command.ts";

export const diffCommand: CommandDef = {
  name: "diff",
  summary: "compare two variants, of one spec or two, stage by stage",
  usage: "effnet diff FILE VARIANT_A VARIANT_B [--json]\n       effnet diff FILE_A:VARIANT FILE_B:VARIANT [--json]",
  details:
    "Per stage (matched by row number): channels, layers, input resolution, parameters and MACs of both sides and their differences, B − A, plus totals. A side may omit `:VARIANT` when its spec has a single variant.",
  positionals: { min: 2, max: 3 },
  options: {
    json: { type: "boolean", description: "print the diff as JSON" },
    "allow-huge": { type: "boolean", description: "build variants past the size limits" },
  },
  examples: [
    "effnet diff specs/efficientnet.effnet B0 B4",
    "effnet diff specs/efficientnet.effnet:B0 specs/mobilenetv2.effnet:V2 --json",
  ],
  run: async (inv) => {
    const [first, second, third] = inv.positionals;
    const sides =
      third !== undefined
        ? [
            { path: first, variant: second },
            { path: first, variant: third },
          ]
        : [splitSide(first), splitSide(second)];
    const compiled = new Map<string, Compilation | undefined>();
    const resolved: { source: string; compiled: CompiledVariant }[] = [];
    for (const side of sides) {
      const v = variantOf(side, compiled, inv.options["allow-huge"] === true, inv.io);
      if (!v) return EXIT.errors;
      resolved.push({ source: side.path, compiled: v });
    }
    const diff = diffVariants(resolved[0], resolved[1]);
    inv.io.out(
      inv.options.json === true
        ? JSON.stringify(diff, null, 2) + "\n"
        : renderDiff(diff, Math.max(MIN_WIDTH, inv.io.columns ?? DEFAULT_WIDTH)) + "\n",
    );
    return EXIT.ok;
  },
};

/** `specs/x.effnet:B0` → path and variant; the variant is optional. */
export function splitSide(text: string): { path: string; variant?: string } {
  const at = text.lastIndexOf(":");
  return at > 0 && !text.slice(at + 1).includes("/")
    ? { path: text.slice(0, at), variant: text.slice(at + 1) }
    : { path: text };
}

/** The compiled variant a `FILE[:VARIANT]` side names (a spec compiled once per path); undefined when the spec has errors. */
export function variantOf(
  side: { path: string; variant?: string },
  cache: Map<string, Compilation | undefined>,
  allowHuge: boolean,
  io: Io,
): CompiledVariant | undefined {
  if (!cache.has(side.path)) cache.set(side.path, compileFile(side.path, { allowHuge }, io).compilation);
  const compilation = cache.get(side.path);
  if (!compilation?.ok) return undefined;
  if (side.variant === undefined) {
    if (compilation.variants.length === 1) return compilation.variants[0];
    throw new UsageError(
      `${side.path} has ${compilation.variants.length} variants; name one: ${side.path}:${compilation.variants[0]?.variant.name ?? "NAME"}`,
    );
  }
  const found = compilation.variants.find((v) => v.variant.name.toLowerCase() === side.variant!.toLowerCase());
  if (!found)
    throw new UsageError(
      `${side.path} has no variant \`${side.variant}\`; it has ${compilation.variants.map((v) => v.variant.name).join(", ")}`,
    );
  return found;
}
