import { format } from "prettier";
import { describe, expect, it } from "vitest";
import { ifLines, objectLine, statementLines } from "../../src/codegen/layout.ts";
import { PRETTIER_OPTIONS } from "./shipped.ts";

/**
 * The layout rules on statements longer than any shipped module has (long names, nested
 * initialiser configs, a custom layer's `new`), so that a new layer kind or a new config
 * field does not have to wait for a shipped spec to find a gap: prettier must leave it as is.
 */
const long = "block7a_a_name_long_enough_to_push_the_line_past_the_print_width";
const STATEMENTS = [
  `tf.layers.conv2d({ name: "stem_conv", filters: 32, kernelSize: 3, strides: 2, padding: "same", useBias: false }).apply(input) as tf.SymbolicTensor`,
  `tf.layers.conv2d({ name: "${long}", filters: 8, kernelSize: 1, padding: "same", useBias: true, activation: "swish" }).apply(x) as tf.SymbolicTensor`,
  `tf.layers.conv2d({ name: "c", filters: 16, kernelInitializer: tf.initializers.varianceScaling({ scale: 2, mode: "fanOut" }) }).apply(x)`,
  `tf.layers.conv2d({ name: "${long}", kernelInitializer: tf.initializers.varianceScaling({ scale: 2, mode: "fanOut", distribution: "untruncatedNormal", seed: 1 }) }).apply(x)`,
  `tf.layers.zeroPadding2d({ name: "${long}", padding: [[0, 1], [0, 1]] }).apply(x) as tf.SymbolicTensor`,
  `tf.layers.zeroPadding2d({ name: "pad", padding: [[0, 1], [0, 1]] }).apply(x) as tf.SymbolicTensor`,
  `tf.layers.multiply({ name: "${long}" }).apply([block1a_activation, block1a_se_expand]) as tf.SymbolicTensor`,
  `new GlobalAveragePooling2DKeepDims({ name: "${long}" }).apply(x) as tf.SymbolicTensor`,
  `tf.input({ name: "${long}", shape: [height, width, 3] })`,
  `tf.layers.add({}).apply([a, b]) as tf.SymbolicTensor`,
];

describe("layout", () => {
  it("lays statements out as prettier prints them", async () => {
    const body = [
      ...STATEMENTS.map((e, i) => statementLines("  ", `const x${i} = `, e)),
      ifLines("  ", "!includeTop", `return tf.model({ name: modelName, inputs: input, outputs: ${long} });`),
      ifLines("  ", "!includeTop", `return tf.model({ name: modelName, inputs: input, outputs: ${long}_and_more });`),
      ifLines(
        "  ",
        "!(dropout >= 0 && dropout < 1)",
        "throw new RangeError(`dropout must be in [0, 1), got ${dropout}`);",
      ),
    ];
    const text = `function f() {\n${body.join("\n")}\n}\n`;
    expect(await format(text, PRETTIER_OPTIONS)).toBe(text);
  });

  it("lays objects and object types out as prettier prints them", async () => {
    const numbers =
      "{ width: 2.1435888100000016, depth: 4.2998169599999985, resolution: 688, phi: 8, extra: 123456789 }";
    const types =
      "{ readonly width: 2.1435888100000016; readonly depth: 4.2998169599999985; readonly resolution: 688 }";
    const value = `export const metadata = {\n${objectLine("  ", "coefficients: ", numbers, ",")}\n};\n`;
    const type = `export declare const metadata: {\n${objectLine("  ", "readonly coefficients: ", types, ";", ";")}\n};\n`;
    expect(await format(value, PRETTIER_OPTIONS)).toBe(value);
    expect(await format(type, PRETTIER_OPTIONS)).toBe(type);
  });
});
