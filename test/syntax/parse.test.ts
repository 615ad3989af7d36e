import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import { atomsText, type Entry, type Row } from "../../src/syntax/ast.ts";
import { parse } from "../../src/syntax/parse.ts";
import { print } from "../../src/syntax/print.ts";

const source = (text: string, path = "test.effnet") => ({ path, text });

/** Table 1 of Tan & Le 2019, typed exactly as printed (Markdown, Unicode headers and ×). */
const TABLE_1 = `network EfficientNet {
  input 224x224x3
  classes 1000
  stages {
    | Stage i | Operator F̂i            | Resolution Ĥi×Ŵi | #Channels Ĉi | #Layers L̂i |
    |---------|------------------------|------------------|--------------|------------|
    | 1       | Conv3x3                | 224×224          | 32           | 1          |
    | 2       | MBConv1, k3x3          | 112×112          | 16           | 1          |
    | 3       | MBConv6, k3x3          | 112×112          | 24           | 2          |
    | 4       | MBConv6, k5x5          | 56×56            | 40           | 2          |
    | 5       | MBConv6, k3x3          | 28×28            | 80           | 3          |
    | 6       | MBConv6, k5x5          | 14×14            | 112          | 3          |
    | 7       | MBConv6, k5x5          | 14×14            | 192          | 4          |
    | 8       | MBConv6, k3x3          | 7×7              | 320          | 1          |
    | 9       | Conv1x1 & Pooling & FC | 7×7              | 1280         | 1          |
  }
}
`;

describe("parser", () => {
  it("reads Table 1 as printed, header words and all", () => {
    const { document, diagnostics } = parse(source(TABLE_1));
    expect(diagnostics).toEqual([]);
    const stages = document.entries[0].block!.items.find(
      (i): i is Entry => i.kind === "entry" && i.key.text === "stages",
    )!;
    const rows = stages.block!.items as Row[];
    expect(rows).toHaveLength(11);
    expect(rows[0].cells.map((c) => atomsText(c.atoms))).toEqual([
      "Stage i",
      "Operator F̂i",
      "Resolution Ĥi×Ŵi",
      "#Channels Ĉi",
      "#Layers L̂i",
    ]);
    expect(rows[3].cells.map((c) => atomsText(c.atoms))).toEqual(["2", "MBConv1, k3x3", "112×112", "16", "1"]);
    expect(rows[10].cells[1].atoms.map((a) => a.text)).toEqual(["Conv1x1", "&", "Pooling", "&", "FC"]);
  });

  it("checks Table 1 as printed: strides inferred from the resolution column", () => {
    const compilation = compile(source(TABLE_1));
    expect(compilation.diagnostics).toEqual([]);
    const spec = compilation.spec!;
    expect(spec.stages.map((s) => s.stride)).toEqual([2, 1, 2, 2, 2, 1, 2, 1, 1]);
    expect(spec.stages.map((s) => s.operator.name)).toEqual([
      "Conv",
      "MBConv",
      "MBConv",
      "MBConv",
      "MBConv",
      "MBConv",
      "MBConv",
      "MBConv",
      "Head",
    ]);
    expect(spec.stages.map((s) => s.params.kernel)).toEqual([3, 3, 3, 5, 3, 5, 5, 3, 1]);
    expect(spec.stages.map((s) => s.params.expand)).toEqual([1, 1, 6, 6, 6, 6, 6, 6, 1]);
  });

  it("keeps spans that point at the source text", () => {
    const text = TABLE_1;
    const { document } = parse(source(text));
    const network = document.entries[0];
    expect(text.slice(network.key.span.start, network.key.span.end)).toBe("network");
    expect(text.slice(network.args[0].span.start, network.args[0].span.end)).toBe("EfficientNet");
  });

  it("recovers and reports every syntax error in one run", () => {
    const broken = "network A {\n  input 224x224x3 @\n  classes 10 $\n  stages {\n    | 1 { 2 |\n  }\n}\n";
    const { diagnostics } = parse(source(broken));
    expect(diagnostics.map((d) => d.code)).toEqual(["EFF1001", "EFF1001", "EFF1002"]);
  });

  it("tells a `#Word` header from a `# comment`", () => {
    const { document, diagnostics } = parse(source("# a comment\nnetwork A {  # trailing\n  classes 10  # ten\n}\n"));
    expect(diagnostics).toEqual([]);
    const network = document.entries[0];
    expect(network.leadingComments).toEqual(["# a comment"]);
    expect(network.trailingComment).toBe("# trailing");
    expect((network.block!.items[0] as Entry).trailingComment).toBe("# ten");
  });
});

const MESSY =
  "# head\nnetwork A {\n  classes   10 # c\n\n  stages {\n  |a|bb|\n  |--|:-:|\n  | ccc | d |  # row\n  # closing\n  }\n}\n";

describe("printer (effnet fmt)", () => {
  for (const path of ["specs/efficientnet.effnet", "specs/mobilenetv2.effnet"]) {
    it(`${path} is already in canonical form`, () => {
      const text = readFileSync(path, "utf8");
      expect(print(parse(source(text, path)).document)).toBe(text);
    });
  }

  it("aligns tables, redraws rules, keeps comments and blank lines, and is idempotent", () => {
    const once = print(parse(source(MESSY)).document);
    expect(once).toBe(
      "# head\nnetwork A {\n  classes 10  # c\n\n  stages {\n    | a   | bb  |\n    | --- | :-: |\n    | ccc | d   |  # row\n    # closing\n  }\n}\n",
    );
    expect(print(parse(source(once)).document)).toBe(once);
  });

  it("prints a CRLF file as its LF twin: trailing comments stay on their lines", () => {
    // chevrotain counted the `\r` (WhiteSpace) and the `\n` (Newline) of a CRLF ending as two
    // lines, so a trailing comment's line disagreed with its entry's and moved to a line of its own.
    const lf = print(parse(source(MESSY)).document);
    expect(print(parse(source(MESSY.replaceAll("\n", "\r\n"))).document)).toBe(lf);
  });

  it("prints Table 1 so that it parses back to the same document", () => {
    const printed = print(parse(source(TABLE_1)).document);
    // Equal up to spans and the length of Markdown rules, which the printer redraws.
    const strip = (text: string) =>
      JSON.stringify(parse(source(text)).document, (k, v) =>
        k === "span" || k === "open" || k === "close"
          ? undefined
          : v?.kind === "rule"
            ? { ...v, text: v.text.replace(/-+/, "-") }
            : v,
      );
    expect(strip(printed)).toBe(strip(TABLE_1));
  });
});
