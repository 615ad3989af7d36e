import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { modelInput, shapesDataset } from "../src/runtime/data.ts";
import { loadModel, saveModel } from "../src/runtime/io.ts";
import { importVariantModule } from "../src/codegen/import-module.ts";
import { trainModel } from "../src/runtime/train.ts";
import { runCli } from "./helpers/cli.ts";
import { useBackend } from "./helpers/numeric.ts";
import { seedWeights, SMALL_NET_SPEC } from "./helpers/small-net.ts";

/**
 * `effnet export`: a trained model (the small network, a few steps on the shapes data set,
 * saved as `effnet train` saves) exported for inference in each weight type; what the
 * command reports, what it writes, and that the files load with tfjs alone (in another
 * Node process that imports nothing of effnet); and its errors.
 */
const ROOT = resolve(new URL("..", import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), "effnet-export-"));
const trained = join(dir, "trained");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await selectBackend("wasm"); // with effnet's gradient kernels, for the few training steps
  const compiled = compile({ path: "small.effnet", text: SMALL_NET_SPEC }).variants[0];
  const { buildModel } = await importVariantModule(compiled, "small.effnet");
  const model = buildModel({ classes: 3 });
  seedWeights(model, 1);
  const data = shapesDataset({ count: 96, resolution: 32, seed: 2 });
  await trainModel(model, data, { epochs: 2, batchSize: 16, learningRate: 3e-3 });
  await saveModel(model, trained, {
    network: "SmallNet",
    variant: "SmallNet",
    resolution: 32,
    classNames: ["circle", "square", "triangle"],
  });
  model.dispose();
});

interface ExportJson {
  files: string[];
  bytes: { float32: number; weights: number };
  folded: { batchNorms: number; dropouts: number };
  folding: { relativeLogitError: number };
  change: { maxProbabilityChange: number; top1Agreement: number; relativeLogitError: number };
  customLayers: string[];
  samples: number;
}

async function exportJson(...args: string[]): Promise<ExportJson> {
  const r = await runCli("export", ...args, "--json", "--backend", "wasm");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ExportJson;
}

/** Loads an exported directory in a fresh Node process with tfjs alone (and effnet-layers.js if written) and prints its outputs. */
function predictWithTfjsAlone(out: string, input: Float32Array, shape: number[]): Float32Array {
  writeFileSync(join(out, "input.json"), JSON.stringify(Array.from(input)));
  const layers = existsSync(join(out, "effnet-layers.js"));
  const script = `
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
${layers ? `import { registerEffnetLayers } from ${JSON.stringify(join(out, "effnet-layers.js"))}; registerEffnetLayers(tf);` : ""}
await tf.setBackend("cpu");
const json = JSON.parse(readFileSync(${JSON.stringify(join(out, "model.json"))}, "utf8"));
const bin = readFileSync(${JSON.stringify(join(out, "weights.bin"))});
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: json.modelTopology,
  weightSpecs: json.weightsManifest[0].weights,
  weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
}));
const x = tf.tensor(JSON.parse(readFileSync(${JSON.stringify(join(out, "input.json"))}, "utf8")), ${JSON.stringify(shape)});
process.stdout.write(JSON.stringify(Array.from(model.predict(x).dataSync())));
`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" },
  });
  expect(r.status, r.stderr).toBe(0);
  return Float32Array.from(JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as number[]);
}

describe("effnet export --for inference", () => {
  it("float32: folded, measured, written; tfjs alone reproduces the trained model's outputs to 1e-4", async () => {
    const out = join(dir, "f32");
    const r = await exportJson(trained, "--for", "inference", "--out", out);
    expect(readdirSync(out).sort()).toEqual(["model.json", "weights.bin"]);
    expect(r.customLayers).toEqual([]);
    // Every batch norm of the saved model is folded.
    const saved = JSON.parse(readFileSync(join(trained, "model.json"), "utf8"));
    const batchNorms = saved.modelTopology.config.layers.filter(
      (l: { class_name: string }) => l.class_name === "BatchNormalization",
    );
    expect(r.folded.batchNorms).toBe(batchNorms.length);
    expect(r.folding.relativeLogitError).toBeLessThanOrEqual(1e-4);
    expect(r.bytes.weights).toBe(readFileSync(join(out, "weights.bin")).byteLength);

    await useBackend("cpu");
    const images = shapesDataset({ count: 4, resolution: 32, seed: 77 });
    const x = modelInput(images.images, [4, 32, 32, 3]);
    const { model } = await loadModel(trained);
    const expected = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    model.dispose();
    const actual = predictWithTfjsAlone(out, x.dataSync() as Float32Array, [4, 32, 32, 3]);
    x.dispose();
    const scale = Math.max(...expected.map(Math.abs));
    expect(Math.max(...actual.map((v, i) => Math.abs(v - expected[i]))) / scale).toBeLessThanOrEqual(1e-4);
  });

  it("float16 halves the weights and keeps top-1 on the fixed set; uint8 quarters them and reports its change", async () => {
    const f16 = await exportJson(trained, "--out", join(dir, "f16"), "--weights", "float16");
    expect(f16.bytes.weights).toBe(f16.bytes.float32 / 2);
    expect(f16.samples).toBe(16);
    expect(f16.change.top1Agreement).toBe(1);
    expect(f16.change.maxProbabilityChange).toBeLessThan(1e-2);
    // The export keeps effnet's metadata: `effnet predict` reads it as it reads the trained model.
    const predicted = async (model: string) => {
      const p = await runCli("predict", model, "--synthetic", "8", "--json", "--backend", "wasm");
      expect(p.code, p.stderr).toBe(0);
      return (JSON.parse(p.stdout) as { results: { top: { class: string }[] }[] }).results.map((r) => r.top[0].class);
    };
    expect(await predicted(join(dir, "f16"))).toEqual(await predicted(trained));
    const u8 = await exportJson(trained, "--out", join(dir, "u8"), "--weights", "uint8", "--samples", "8");
    expect(u8.bytes.weights).toBe(u8.bytes.float32 / 4);
    expect(u8.samples).toBe(8);
    expect(u8.change.maxProbabilityChange).toBeGreaterThan(f16.change.maxProbabilityChange);
    expect(u8.change.top1Agreement).toBeGreaterThanOrEqual(0);
    const manifest = JSON.parse(readFileSync(join(dir, "u8/model.json"), "utf8")).weightsManifest[0].weights;
    expect(manifest.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === "uint8")).toBe(true);

    const text = await runCli("export", trained, "--out", join(dir, "u8-text"), "--weights", "uint8");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/weights uint8: [\d.]+ MB \(float32: [\d.]+ MB\)/);
    expect(text.stdout).toMatch(/max \|Δprobability\| [\d.e+-]+, top-1 agrees on \d+\/16/);
  });

  it("a spec's variant with custom layers ships effnet-layers.js, which registers them for tfjs alone", async () => {
    const out = join(dir, "v3");
    const r = await exportJson("specs/mobilenetv3.effnet", "--variant", "Large", "--resolution", "32", "--out", out);
    expect(r.customLayers.sort()).toEqual(["EffnetHardSigmoid", "EffnetHardSwish"]);
    expect(readdirSync(out).sort()).toEqual(["effnet-layers.js", "model.json", "weights.bin"]);
    const input = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256);
    const actual = predictWithTfjsAlone(out, input, [1, 32, 32, 3]);
    expect(actual.length).toBe(1000);
    expect(actual.every(Number.isFinite)).toBe(true);
  });
});

describe("effnet export: errors", () => {
  it("a directory without a saved model, a missing one, a broken model.json: one clean line, exit 1", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty, { recursive: true });
    for (const source of [empty, join(dir, "missing")]) {
      const r = await runCli("export", source, "--out", join(dir, "never"));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/holds no saved model: cannot read model.json \(no such file or directory\)/);
    }
    const broken = join(dir, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "model.json"), "{ not json");
    const r = await runCli("export", broken, "--out", join(dir, "never"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[EFF5011\]: .*model\.json: not valid JSON/);
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  it("bad flags are usage errors (exit 2) that name the flag", async () => {
    const cases: [string[], RegExp][] = [
      [[trained, "--out", join(dir, "x"), "--weights", "int4"], /--weights must be one of float32, float16, uint8/],
      [[trained, "--out", join(dir, "x"), "--for", "training"], /--for must be one of inference/],
      [[trained], /--out DIR is required/],
      [[trained, "--out", trained], /is the model being exported/],
      [["specs/efficientnet.effnet", "--out", join(dir, "x")], /--variant NAME is required when exporting a spec/],
      [[trained, "--variant", "B3", "--out", join(dir, "x")], /holds SmallNet SmallNet; leave out --variant/],
      [[trained, "--out", join(dir, "x"), "--samples", "0"], /--samples must be a whole number ≥ 1/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli("export", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, "x"))).toBe(false);
  });

  it("a spec with errors gives its diagnostics; an output that cannot be written is EFF0003 and writes nothing", async () => {
    const bad = await runCli("export", "specs/efficientnet.effnet", "--variant", "B9", "--out", join(dir, "x"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/EFF0002/);
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const r = await runCli("export", trained, "--out", join(file, "sub"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[EFF0003\]: cannot write .*a-file\/sub/);
  });
});
