import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import type { GeneratedModelModule } from "../../src/runtime/module.ts";
import { ROOT } from "./shipped.ts";

/**
 * A generated module built at a size of the other parity than its variant's (buildModel's
 * `resolution`) pads as the compiler does at that size: Keras's correct_pad depends on the
 * input's parity and is computed when the module is built; Keras MobileNet's fixed
 * ((0, 1), (0, 1)) of its strided depthwise blocks does not (src/vocabulary/conventions.ts,
 * PADDING_RULES). Each case adds a row at the odd size to the shipped spec and compares the
 * module built at that size with the compiler's network of the row, layer by layer.
 */
const CASES = [
  {
    spec: "specs/mobilenetv1.effnet",
    module: "generated/mobilenetv1/v1_1_0_224.ts",
    after: "T3_compound",
    row: "| V1_1.0_225 | 1.0 | 1.0 | 225 | - | - |",
  },
  {
    spec: "specs/efficientnet.effnet",
    module: "generated/efficientnet/b0.ts",
    after: "B0",
    row: "| B0_225 | 1.0 | 1.0 | 225 | 0.2 | - | - |",
  },
];

beforeAll(async () => {
  await tf.setBackend("wasm");
});

describe.each(CASES)("$module built at 225 px", ({ spec, module, after, row }) => {
  it("has the compiler's layer shapes and MACs at 225 px", async () => {
    const text = readFileSync(new URL(spec, `file://${ROOT}`), "utf8");
    const withRow = text.replace(new RegExp(`^(\\s*\\| ${after} .*\\n)`, "m"), `$1    ${row}\n`);
    expect(withRow).not.toBe(text);
    const name = row.split("|")[1].trim();
    const compilation = compile({ path: spec, text: withRow }, { variants: [name] });
    expect(compilation.diagnostics).toEqual([]);
    const { ir } = compilation.variants[0];
    const { buildModel } = (await import(new URL(module, `file://${ROOT}`).href)) as GeneratedModelModule;
    const model = buildModel({ resolution: 225 });
    try {
      const shapes = Object.fromEntries(model.layers.map((l) => [l.name, l.outputShape]));
      expect(shapes).toEqual(Object.fromEntries(ir.layers.map((l) => [l.name, [null, ...l.outputShape]])));
      // The padding layers differ between the rules: the 225 px network has some of each kind.
      const pads = ir.layers.filter((l) => l.kind === "zeroPadding2d");
      expect(pads.length).toBeGreaterThan(0);
    } finally {
      model.dispose();
    }
  });
});
