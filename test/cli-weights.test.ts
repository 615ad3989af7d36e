import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { DIAGNOSTICS } from "../src/diagnostics/codes.ts";
import { saveModel, loadModel } from "../src/runtime/io.ts";
import { buildModel } from "../generated/efficientnet/b0.ts";
import { float32Values, readSafetensors, writeSafetensors, type TensorToWrite } from "../src/weights/safetensors.ts";
import { CASES, caseWeights } from "../scripts/equivalence/cases.ts";
import { runCli } from "./helpers/cli.ts";

/** A safetensors file whose header is `header`: its 8-byte little-endian length, then the text. */
function safetensorsWithHeader(header: string): Uint8Array {
  const text = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + text.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
  bytes.set(text, 8);
  return bytes;
}

/**
 * `effnet weights import` and `export`: a round trip that is exact to the byte, a new
 * classifier with --classes, and a coded diagnostic for every kind of bad weights file
 * (EFF5xxx), with nothing written.
 */
const dir = mkdtempSync(join(tmpdir(), "effnet-weights-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const b0 = CASES.find((c) => c.name === "efficientnet_b0")!;
const b0File = join(dir, "b0.safetensors");
const { bytes: b0Bytes } = caseWeights(b0);
writeFileSync(b0File, b0Bytes);
const spec = "specs/efficientnet.effnet";
const importB0 = (file: string, out: string, ...more: string[]) =>
  runCli(
    "weights",
    "import",
    spec,
    "--variant",
    "B0",
    "--from",
    "torchvision",
    file,
    "--out",
    out,
    "--backend",
    "cpu",
    ...more,
  );

/** The seeded B0 file's tensors, to rewrite into bad files. */
function b0Tensors(): TensorToWrite[] {
  const { file } = readSafetensors(b0Bytes, "b0");
  return [...file!.tensors].map(([name, e]) =>
    e.dtype === "F32"
      ? { name, dtype: "F32", shape: e.shape, values: float32Values(e) }
      : { name, dtype: "I64", shape: e.shape, values: new BigInt64Array(1) },
  );
}

describe("effnet weights", () => {
  it("import then export gives back the same file, byte for byte", async () => {
    const out = join(dir, "b0-model");
    const imported = await importB0(b0File, out);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/5,330,564 parameters in 311 tensors; saved to/);
    const exported = await runCli(
      "weights",
      "export",
      out,
      "--to",
      "torchvision",
      "--out",
      join(dir, "b0-again.safetensors"),
    );
    expect(exported.code).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, "b0-again.safetensors")), Buffer.from(b0Bytes))).toBe(0);
  }, 60_000);

  it("MnasNet round trip: its naming family comes back from the saved model's name (network_variant)", async () => {
    // MnasNet's blocks have MobileNetV2's layers, so only the name picks its family (src/weights/naming.ts).
    const mnasnet = CASES.find((c) => c.name === "mnasnet1_0")!;
    const file = join(dir, "mnasnet.safetensors");
    const { bytes } = caseWeights(mnasnet);
    writeFileSync(file, bytes);
    const out = join(dir, "mnasnet-model");
    const imported = await runCli(
      "weights",
      "import",
      mnasnet.spec,
      "--variant",
      mnasnet.variant,
      "--from",
      "torchvision",
      file,
      "--out",
      out,
      "--backend",
      "cpu",
    );
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    const again = join(dir, "mnasnet-again.safetensors");
    const exported = await runCli("weights", "export", out, "--to", "torchvision", "--out", again);
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    expect(Buffer.compare(readFileSync(again), Buffer.from(bytes))).toBe(0);
  }, 60_000);

  it("--classes N keeps the backbone and starts a new classifier", async () => {
    const out = join(dir, "b0-three");
    const result = await importB0(b0File, out, "--classes", "3", "--resolution", "64", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ classes: 3, newClassifier: true, convention: "torchvision" });
    await tf.setBackend("cpu");
    const { model, info } = await loadModel(out);
    expect(model.outputs[0].shape).toEqual([null, 3]);
    expect(info?.convention).toBe("torchvision");
    // The stem's kernel is the file's, in HWIO.
    const { file } = readSafetensors(b0Bytes, "b0");
    const oihw = float32Values(file!.tensors.get("features.0.0.weight")!); // [32, 3, 3, 3]
    const hwio = model.getLayer("stem_conv").getWeights()[0].dataSync();
    const [o, i, y, x] = [5, 2, 1, 0];
    expect(hwio[((y * 3 + x) * 3 + i) * 32 + o]).toBe(oihw[((o * 3 + i) * 3 + y) * 3 + x]);
    model.dispose();
  }, 60_000);

  const bad: [string, () => Uint8Array, RegExp[]][] = [
    ["not safetensors at all", () => new TextEncoder().encode('{"weights": [1, 2, 3]}\n'), [/EFF5030/]],
    ["a header length past the end", () => b0Bytes.slice(0, 1000), [/EFF5031.*header should be/]],
    ["truncated data", () => b0Bytes.slice(0, b0Bytes.byteLength - 4096), [/EFF5002.*truncated: tensor `/]],
    [
      "the wrong dtype",
      () =>
        writeSafetensors(
          b0Tensors().map((t) =>
            t.name === "features.0.0.weight" ? { ...t, dtype: "I64", values: new BigInt64Array(t.values.length) } : t,
          ),
        ),
      [/EFF5003.*`features\.0\.0\.weight`.* is I64/],
    ],
    [
      "a missing, an unexpected and a mis-shaped tensor, all reported",
      () =>
        writeSafetensors(
          b0Tensors().flatMap((t) =>
            t.name === "features.0.1.running_var"
              ? []
              : t.name === "features.1.0.block.0.1.bias"
                ? [{ ...t, name: "features.1.0.block.0.1.biass" }]
                : t.name === "classifier.1.bias"
                  ? [{ ...t, shape: [10, 100] }]
                  : [t],
          ),
        ),
      [
        /EFF5004.*`features\.0\.1\.running_var` for effnet layer `stem_bn\/moving_variance` \(\[32\]\)/,
        /EFF5004.*`features\.1\.0\.block\.0\.1\.bias`/,
        /EFF5005.*`features\.1\.0\.block\.0\.1\.biass` \[32\]/,
        /EFF5006.*`classifier\.1\.bias` has shape \[10, 100\]; effnet layer `predictions\/bias` needs \[1000\]/,
      ],
    ],
  ];
  it.each(bad)(
    "%s: coded diagnostics, exit 1, nothing written",
    async (_what, make, patterns) => {
      const file = join(dir, "bad.safetensors");
      writeFileSync(file, make());
      const out = join(dir, "never-written");
      const result = await importB0(file, out);
      expect(result.code).toBe(1);
      for (const p of patterns) expect(result.stderr).toMatch(p);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    },
    60_000,
  );

  it("a different variant's weights: every mismatch at once (EFF5004, EFF5006), nothing written", async () => {
    const out = join(dir, "b2-from-b0");
    const result = await runCli(
      "weights",
      "import",
      spec,
      "--variant",
      "B2",
      "--from",
      "torchvision",
      b0File,
      "--out",
      out,
      "--backend",
      "cpu",
    );
    expect(result.code).toBe(1);
    // Over 100 mismatches: the CLI prints 100, the first of each code among them (src/diagnostics/render.ts).
    expect(result.stderr).toMatch(
      /EFF5006.*`features\.3\.0\.block\.3\.0\.weight` has shape \[40, 144, 1, 1\]; effnet layer `block3a_project_conv\/kernel` needs \[48, 144, 1, 1\]/,
    );
    expect(result.stderr).toMatch(
      /EFF5004.*`features\.1\.1\.block\.0\.0\.weight` for effnet layer `block1b_dwconv\/depthwise_kernel`/,
    );
    expect(result.stderr).toMatch(/\d{3} errors, 0 warnings \(the first 100 shown, \d+ more not shown\)/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("export refuses a model built under another convention (EFF5008)", async () => {
    await tf.setBackend("cpu");
    const out = join(dir, "keras-b0");
    const model = buildModel({ resolution: 32 });
    await saveModel(model, out, { network: "EfficientNet", variant: "B0", resolution: 32, classNames: [] });
    model.dispose();
    const result = await runCli("weights", "export", out, "--to", "torchvision");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EFF5008.*`keras` convention/);
    expect(existsSync(join(out, "torchvision.safetensors"))).toBe(false);
  }, 60_000);

  it("usage: --from is required and checked; `effnet weights` lists its commands", async () => {
    const missing = await runCli("weights", "import", spec, "--variant", "B0", b0File);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--from REFERENCE is required \(torchvision\)/);
    const wrong = await runCli("weights", "import", spec, "--variant", "B0", "--from", "timm", b0File);
    expect(wrong.stderr).toMatch(/--from must be one of torchvision, not `timm`/);
    const family = await runCli("weights");
    expect(family.code).toBe(2);
    expect(family.stderr).toMatch(/`weights import`, `weights export`/);
    const help = await runCli("help", "weights", "import");
    expect(help.stdout).toMatch(/OIHW → HWIO/);
  });

  it("a block torchvision has no module for is EFF5007, and nothing is written", async () => {
    const mobilenetV1 = join(dir, "dsconv.effnet");
    writeFileSync(
      mobilenetV1,
      `network DS {
  input 32x32x3
  classes 10
  convention torchvision
  stages {
    | Operator               | Resolution | Channels | Layers |
    | Conv3x3                | 32x32      | 8        | 1      |
    | DSConv, k3x3           | 16x16      | 16       | 1      |
    | Conv1x1 & Pooling & FC | 16x16      | 32       | 1      |
  }
}
`,
    );
    const out = join(dir, "ds-model");
    const result = await runCli("weights", "import", mobilenetV1, "--from", "torchvision", b0File, "--out", out);
    expect(result.code).toBe(2); // no --variant
    const named = await runCli(
      "weights",
      "import",
      mobilenetV1,
      "--variant",
      "base",
      "--from",
      "torchvision",
      b0File,
      "--out",
      out,
      "--backend",
      "cpu",
    );
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/EFF5007.*effnet layer `block1a_dw_bn` has no torchvision name/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it.each([
    ["shorter than the header length", "EFF5001", new Uint8Array(5), /5 bytes, shorter than the 8-byte header/],
    ["a header that is not JSON", "EFF5032", safetensorsWithHeader("{not json"), /its header is not UTF-8 JSON/],
    ["a header that is a list", "EFF5033", safetensorsWithHeader("[1, 2]"), /its header is not a JSON object/],
    [
      "an entry without offsets",
      "EFF5034",
      safetensorsWithHeader('{"w": {"dtype": "F32", "shape": [2]}}'),
      /its header entry "w" is not \{dtype, shape, data_offsets/,
    ],
    [
      "offsets that disagree with the shape",
      "EFF5035",
      safetensorsWithHeader('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}'),
      /tensor "w" is F32 \[2\] \(8 bytes\) but its data_offsets span 4/,
    ],
  ])("%s is %s", (_, code, bytes, text) => {
    const { file, diagnostics } = readSafetensors(bytes, "bad.safetensors");
    expect(file).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual([code]);
    expect(diagnostics[0].message).toMatch(text);
  });

  it("every EFF500x and EFF503x code (weights files) has a failing case here", () => {
    const source = readFileSync(new URL(import.meta.url), "utf8");
    const codes = Object.keys(DIAGNOSTICS).filter((c) => /^EFF50[03]/.test(c));
    expect(codes.filter((c) => !source.includes(c))).toEqual([]);
  });
});
