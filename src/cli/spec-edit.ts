import { compile } from "../compile.ts";
import { hasErrors } from "../diagnostics/diagnostic.ts";
import { codedError } from "../runtime/errors.ts";
import type { SourceFile } from "../diagnostics/source.ts";
import type { Atom, Block, Document, Entry } from "../syntax/ast.ts";
import { parse } from "../syntax/parse.ts";
import { print } from "../syntax/print.ts";
import { SCALING_DIMENSIONS, SCALING_DIMENSION_NAMES, type Coefficient } from "../vocabulary/dimensions.ts";
import { writeFilesAtomically, type Io } from "./command.ts";

/**
 * `search --write` and `solve --write`: an edit of the spec's syntax tree, printed by the
 * printer (`effnet fmt`'s canonical form, comments kept), checked to compile to what was
 * asked for before the file is replaced all or nothing. Edits that would leave the spec
 * invalid are refused with the reason and write nothing.
 */
const NO_SPAN = { start: 0, end: 0 };
const atom = (kind: Atom["kind"], text: string): Atom => ({ kind, text, span: NO_SPAN });
const NO_TRIVIA = { leadingComments: [], blankLineBefore: false } as const;

function entry(key: string, args: readonly Atom[]): Entry {
  return { kind: "entry", key: atom("name", key), args, span: NO_SPAN, ...NO_TRIVIA };
}

function withBlock(e: Entry, items: Block["items"]): Entry {
  return { ...e, block: { ...e.block!, items } };
}

/** The document with its network block replaced by `edit` of it. */
function editNetwork(doc: Document, edit: (network: Entry) => Entry): Document {
  const index = doc.entries.findIndex((e) => e.key.text === "network" && e.block);
  if (index < 0) throw new SpecEditError("the spec has no `network NAME { … }` block to edit");
  return { ...doc, entries: doc.entries.map((e, i) => (i === index ? edit(e) : e)) };
}

/** Why an edit cannot be made; rewriteSpec turns it into EFF0011 naming the file and the edit. */
class SpecEditError extends Error {}

/**
 * The scaling block with α, β, γ set: `depth alpha 1.2 round ceil …` keeps its rules with
 * the new coefficient; a dimension line without one gets it after its keyword; a dimension
 * the block does not write gets a line of its own.
 */
export function withCoefficients(doc: Document, c: Readonly<Record<Coefficient, number>>): Document {
  return editNetwork(doc, (network) => {
    const items = network.block!.items;
    const at = items.findIndex((i) => i.kind === "entry" && i.key.text === "scaling" && i.block);
    if (at < 0)
      throw new SpecEditError("the spec has no `scaling compound { … }` block to write the coefficients into");
    const scaling = items[at] as Entry;
    const lines = [...scaling.block!.items];
    for (const dimension of SCALING_DIMENSION_NAMES) {
      const name = SCALING_DIMENSIONS[dimension].coefficient;
      const value = atom("number", String(c[name]));
      const i = lines.findIndex((l) => l.kind === "entry" && l.key.text === dimension);
      if (i < 0) {
        lines.push(entry(dimension, [atom("name", name), value]));
        continue;
      }
      const line = lines[i] as Entry;
      const k = line.args.findIndex((a) => a.text === name || a.text === SCALING_DIMENSIONS[dimension].greek);
      const args =
        k >= 0 && line.args[k + 1]?.kind === "number"
          ? line.args.map((a, j) => (j === k + 1 ? value : a))
          : [atom("name", name), value, ...line.args];
      lines[i] = { ...line, args };
    }
    return withBlock(
      network,
      items.map((item, j) => (j === at ? withBlock(scaling, lines) : item)),
    );
  });
}

/** The network block with `variant NAME phi X` added at its end. */
export function withPhiVariant(doc: Document, name: string, phi: number): Document {
  return editNetwork(doc, (network) =>
    withBlock(network, [
      ...network.block!.items,
      entry("variant", [atom("name", name), atom("name", "phi"), atom("number", String(phi))]),
    ]),
  );
}

/**
 * Parses `file`, applies `edit`, checks that the result compiles without errors and passes
 * `verify`, and replaces the file (through a symbolic link, keeping its mode). Returns the
 * new text, or throws EFF0011 (a RuntimeUserError) saying why nothing was written.
 */
export function rewriteSpec(
  file: SourceFile,
  what: string,
  edit: (doc: Document) => Document,
  verify: (compiled: ReturnType<typeof compile>) => string | undefined,
  io: Io,
): string {
  try {
    const parsed = parse(file);
    if (hasErrors(parsed.diagnostics)) throw new SpecEditError("it does not parse");
    const text = print(edit(parsed.document));
    const compiled = compile({ path: file.path, text });
    const error = compiled.diagnostics.find((d) => d.severity === "error");
    const problem = error ? `the edited spec would not compile (${error.code}: ${error.message})` : verify(compiled);
    if (problem) throw new SpecEditError(problem);
    const failed = writeFilesAtomically([{ path: file.path, content: text }]);
    if (failed.length) throw new SpecEditError(failed[0].message);
    io.err(`wrote ${what} into ${file.path}\n`);
    return text;
  } catch (e) {
    if (!(e instanceof SpecEditError)) throw e;
    // A RuntimeUserError: the CLI prints it as one line, `error[EFF0011]: …`, exit 1.
    throw codedError("EFF0011", { path: file.path, what, reason: e.message });
  }
}
