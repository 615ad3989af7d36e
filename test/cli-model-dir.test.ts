import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  cpSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIAGNOSTICS } from "../src/diagnostics/codes.ts";
import { OPTIMIZER_BIN, readCheckpoint, TRAINING_JSON } from "../src/runtime/checkpoint.ts";
import { MAX_MODEL_JSON_BYTES, MODEL_JSON, readModelArtifacts, saveModel, WEIGHTS_BIN } from "../src/runtime/io.ts";
import { runCli as run } from "./helpers/cli.ts";
import { pngClaiming } from "./helpers/png.ts";

/**
 * Model directories are untrusted input (issue 15, item 6: a manifest path
 * `../../../../etc/hostname` was followed, a weights.bin longer than its manifest loaded
 * silently, a manifest entry without `weights` was an internal error, an unknown layer class
 * printed tfjs's four lines). Every command that reads one refuses each of these with one
 * coded line naming the file, before tfjs sees anything.
 */
const work = mkdtempSync(join(tmpdir(), "effnet-model-dir-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const pristine = join(work, "pristine");

beforeAll(async () => {
  await tf.setBackend("cpu");
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, name: "conv" }),
      tf.layers.globalAveragePooling2d({ name: "pool" }),
      tf.layers.dense({ units: 3, activation: "softmax", name: "head" }),
    ],
  });
  await saveModel(model, pristine, {
    network: "Tiny",
    variant: "T0",
    resolution: 8,
    classNames: ["circle", "square", "triangle"],
  });
  model.dispose();
});

let n = 0;
/** A copy of the good model directory, with model.json changed by `edit`. */
function modelDir(edit: (json: Record<string, any>) => void = () => {}): string {
  const dir = join(work, `case${++n}`, "model");
  mkdirSync(join(work, `case${n}`));
  cpSync(pristine, dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), "utf8"));
  edit(json);
  writeFileSync(join(dir, MODEL_JSON), JSON.stringify(json));
  return dir;
}

const predict = (dir: string) => run("predict", dir, "--synthetic", "1", "--backend", "cpu");

/** Exit 1 and one coded line that names the file, last on stderr (after any progress), no stack trace, none of tfjs's text. */
async function expectRefused(dir: string, code: string, text: RegExp, command = predict) {
  const r = await command(dir);
  expect(r.code, r.stderr).toBe(1);
  const last = r.stderr.trimEnd().split("\n").at(-1)!;
  expect(last).toMatch(new RegExp(`^effnet [a-z ]+: error\\[${code}\\]: `));
  expect(last).toMatch(text);
  expect(r.stderr.match(/error/g)).toHaveLength(1);
  expect(r.stdout).toBe("");
}

describe("model directories: malformed model.json", () => {
  it("the good model loads (the cases below differ from it in one thing)", async () => {
    const r = await predict(modelDir());
    expect(r.code, r.stderr).toBe(0);
  });

  it("not JSON is EFF5011 naming model.json", async () => {
    const dir = modelDir();
    writeFileSync(join(dir, MODEL_JSON), "{ not json");
    await expectRefused(dir, "EFF5011", /model\.json: not valid JSON/);
  });

  it.each([
    ["no modelTopology", "EFF5017", (j: any) => delete j.modelTopology, /no `modelTopology` object/],
    ["no weightsManifest", "EFF5017", (j: any) => delete j.weightsManifest, /no `weightsManifest` list/],
    ["an entry that is not an object", "EFF5018", (j: any) => (j.weightsManifest[0] = 7), /entry 1 is not an object/],
    [
      "an entry without weights",
      "EFF5018",
      (j: any) => delete j.weightsManifest[0].weights,
      /entry 1 has no `weights` list/,
    ],
    ["an entry without paths", "EFF5018", (j: any) => delete j.weightsManifest[0].paths, /entry 1 has no `paths` list/],
    [
      "a weight of dtype float64",
      "EFF5021",
      (j: any) => (j.weightsManifest[0].weights[0].dtype = "float64"),
      /dtype "float64"/,
    ],
    [
      "a weight of dtype string",
      "EFF5021",
      (j: any) => (j.weightsManifest[0].weights[1].dtype = "string"),
      /dtype "string"/,
    ],
    [
      "a quantisation of dtype constructor",
      "EFF5021",
      (j: any) => (j.weightsManifest[0].weights[0].quantization = { dtype: "constructor" }),
      /dtype "constructor"/,
    ],
    [
      "a shape that is not a list",
      "EFF5022",
      (j: any) => (j.weightsManifest[0].weights[0].shape = "3x3"),
      /shape "3x3"/,
    ],
    [
      "a negative dimension",
      "EFF5022",
      (j: any) => (j.weightsManifest[0].weights[0].shape = [3, -3, 3, 2]),
      /not a list/,
    ],
    [
      "a huge shape",
      "EFF5023",
      (j: any) => (j.weightsManifest[0].weights[0].shape = [1e6, 1e6, 1e6]),
      /more than the 2147483647 bytes effnet loads/,
    ],
    [
      "weights adding up past 2 GiB",
      "EFF5024",
      (j: any) => {
        const [first] = j.weightsManifest[0].weights;
        j.weightsManifest[0].weights = Array.from({ length: 5 }, (_, i) => ({
          ...first,
          name: `big${i}`,
          shape: [2 ** 27],
        }));
      },
      /its weights add up to 2684354560 bytes, more than the 2147483647/,
    ],
    [
      "a weight without a name",
      "EFF5020",
      (j: any) => delete j.weightsManifest[0].weights[0].name,
      /weight 1 has no name/,
    ],
    [
      "effnet's record with classNames not a list",
      "EFF5026",
      (j: any) => (j.userDefinedMetadata.effnet.classNames = "abc"),
      /userDefinedMetadata\.effnet\.classNames is not what effnet records/,
    ],
  ])("%s is %s", async (_, code, edit, text) => {
    await expectRefused(modelDir(edit), code, new RegExp(`model\\.json: .*${text.source}`));
  });

  it("model.json that is JSON but not an object is EFF5015", async () => {
    const dir = modelDir();
    writeFileSync(join(dir, MODEL_JSON), "[1, 2]");
    await expectRefused(dir, "EFF5015", /model\.json: not a JSON object/);
  });

  it("a model.json over its size limit is EFF5016, not read further", async () => {
    const dir = modelDir();
    writeFileSync(join(dir, MODEL_JSON), " ".repeat(MAX_MODEL_JSON_BYTES + 1));
    await expectRefused(dir, "EFF5016", new RegExp(`model\\.json: larger than ${MAX_MODEL_JSON_BYTES} bytes`));
  });

  it("an unknown layer class is one line (EFF5014), not tfjs's four", async () => {
    const dir = modelDir((j) => {
      j.modelTopology.config.layers[1].class_name = "FancyPooling";
    });
    await expectRefused(dir, "EFF5014", /model\.json does not build .*unknown layer class `FancyPooling`/);
  });

  it.each([
    ["predict", (d: string, image: string) => run("predict", d, image, "--backend", "cpu")],
    ["cam", (d: string, image: string) => run("cam", d, image, "--out", join(d, "..", "cam"), "--backend", "cpu")],
  ])("an input larger than any image effnet reads is EFF5029 in %s (it would allocate it)", async (_, command) => {
    const dir = modelDir((j) => {
      j.modelTopology.config.layers[0].config.batch_input_shape = [null, 100000, 100000, 3];
    });
    const image = join(dir, "..", "small.png");
    writeFileSync(image, pngClaiming(2, 2));
    await expectRefused(dir, "EFF5029", /model\.json takes 100000×100000-pixel inputs, more than the 100 MP/, (d) =>
      command(d, image),
    );
    expect(existsSync(join(dir, "..", "cam"))).toBe(false);
  });

  it("a missing model.json is EFF5010 with the fix", async () => {
    await expectRefused(
      join(work, "nowhere"),
      "EFF5010",
      /holds no saved model: cannot read model\.json .*effnet train/,
    );
  });
});

describe("model directories: paths confined to the directory", () => {
  it.each([
    ["a path out of it", "../../../../etc/hostname"],
    ["a path that climbs back in", "../model/weights.bin"],
    ["an absolute path", "/etc/hostname"],
    ["a Windows path", "..\\weights.bin"],
  ])("%s in the manifest is EFF5012", async (_, path) => {
    const dir = modelDir((j) => (j.weightsManifest[0].paths = [path]));
    await expectRefused(dir, "EFF5012", new RegExp(`model\\.json names \`${path.replace(/[.\\/]/g, "\\$&")}\``));
  });

  it("a weights file that is a symbolic link out of the directory is EFF5012", async () => {
    const dir = modelDir();
    const outside = join(dir, "..", "elsewhere.bin");
    writeFileSync(outside, readFileSync(join(dir, WEIGHTS_BIN)));
    rmSync(join(dir, WEIGHTS_BIN));
    symlinkSync(outside, join(dir, WEIGHTS_BIN));
    await expectRefused(dir, "EFF5012", /not a file inside/);
    // A link that stays inside is fine.
    rmSync(join(dir, WEIGHTS_BIN));
    writeFileSync(join(dir, "real.bin"), readFileSync(outside));
    symlinkSync("real.bin", join(dir, WEIGHTS_BIN));
    expect((await predict(dir)).code).toBe(0);
  });

  it("model.json itself may not be a link out of the directory (a device, another file)", async () => {
    const dir = modelDir();
    rmSync(join(dir, MODEL_JSON));
    symlinkSync("/dev/zero", join(dir, MODEL_JSON));
    await expectRefused(dir, "EFF5012", /model\.json names `model\.json`/);
  });
});

describe("model directories: weights sizes checked against the manifest exactly", () => {
  it.each([
    ["one byte longer", (b: Buffer) => Buffer.concat([b, Buffer.from([0])]), "+1"],
    ["four bytes shorter", (b: Buffer) => b.subarray(0, b.length - 4), "-4"],
  ])("a weights.bin %s than its manifest is EFF5013", async (_, change, delta) => {
    const dir = modelDir();
    const bytes = readFileSync(join(dir, WEIGHTS_BIN));
    writeFileSync(join(dir, WEIGHTS_BIN), change(bytes));
    const expected = bytes.length;
    await expectRefused(
      dir,
      "EFF5013",
      new RegExp(`weights\\.bin holds ${expected + Number(delta)} bytes but .*model\\.json describes ${expected}`),
    );
  });

  it("a weights path that is a directory is refused, not read", async () => {
    const dir = modelDir();
    rmSync(join(dir, WEIGHTS_BIN));
    mkdirSync(join(dir, WEIGHTS_BIN));
    await expectRefused(dir, "EFF5025", /weights\.bin: not a regular file/);
  });
});

describe("model directories: every command that reads one", () => {
  const escaping = () => modelDir((j) => (j.weightsManifest[0].paths = ["../../../../etc/hostname"]));
  it.each([
    ["eval", (dir: string) => run("eval", dir, "--synthetic", "3", "--backend", "cpu")],
    ["cam", (dir: string) => run("cam", dir, "--synthetic", "1", "--out", join(dir, "..", "cam"), "--backend", "cpu")],
    ["weights export", (dir: string) => run("weights", "export", dir, "--to", "torchvision")],
    [
      "train --weights",
      (dir: string) =>
        run(
          "train",
          "specs/mobilenetv2.effnet",
          "--variant",
          "V2",
          "--synthetic",
          "--resolution",
          "32",
          "--weights",
          dir,
          "--out",
          join(dir, "..", "out"),
          "--backend",
          "cpu",
        ),
    ],
    [
      "train --resume",
      (dir: string) => run("train", "specs/mobilenetv2.effnet", "--variant", "V2", "--resume", dir, "--backend", "cpu"),
    ],
  ])("%s refuses a manifest path out of the directory", async (name, command) => {
    const dir = escaping();
    if (name === "train --resume") writeCheckpoint(dir);
    await expectRefused(dir, "EFF5012", /model\.json names `\.\.\/\.\.\/\.\.\/\.\.\/etc\/hostname`/, command);
  });
});

/** A valid checkpoint beside the model (one Adam slot), as `effnet train` writes it. */
function writeCheckpoint(dir: string, edit: (training: Record<string, any>) => void = () => {}) {
  const settings = {
    spec: "specs/mobilenetv2.effnet",
    network: "MobileNetV2",
    variant: "V2",
    resolution: 32,
    classNames: ["circle", "square", "triangle"],
    data: "synthetic",
    images: 12,
    validation: 0,
    seed: 1,
    batchSize: 4,
    epochs: 2,
    optimizer: "adam",
    learningRate: 0.001,
    weightDecay: 0,
    schedule: "constant",
    warmupEpochs: 0,
    augment: false,
    zeroHead: false,
  };
  const training = {
    format: "effnet-training-1",
    settings,
    finished: false,
    epochsDone: 1,
    totalSteps: 3,
    elapsedSeconds: 1,
    dropoutDraws: [1],
    optimizerWeights: [{ name: "iter", shape: [], dtype: "float32" }],
  };
  edit(training);
  writeFileSync(join(dir, TRAINING_JSON), JSON.stringify(training));
  writeFileSync(join(dir, OPTIMIZER_BIN), new Uint8Array(new Float32Array([3]).buffer));
  writeFileSync(join(dir, "history.json"), JSON.stringify({ epochs: [] }));
}

describe("training checkpoints (train --resume)", () => {
  it("a valid one reads", () => {
    const dir = modelDir();
    writeCheckpoint(dir);
    const { state, settings } = readCheckpoint(dir);
    expect(settings.variant).toBe("V2");
    expect(state.optimizerWeights[0].tensor.dataSync()[0]).toBe(3);
    tf.dispose(state.optimizerWeights.map((w) => w.tensor));
  });

  it.each([
    [
      "settings missing a field",
      "EFF5028",
      (t: any) => delete t.settings.batchSize,
      /`settings\.batchSize` is missing or malformed/,
    ],
    ["a wrong format", "EFF5027", (t: any) => (t.format = "other"), /not an effnet training checkpoint/],
    ["epochsDone not a count", "EFF5028", (t: any) => (t.epochsDone = "one"), /`epochsDone` is missing or malformed/],
    [
      "optimizer weights not a list",
      "EFF5019",
      (t: any) => (t.optimizerWeights = {}),
      /optimizerWeights: the weights are not a list/,
    ],
    [
      "optimizer weights of another size than optimizer.bin",
      "EFF5013",
      (t: any) => (t.optimizerWeights[0].shape = [2]),
      /optimizer\.bin holds 4 bytes but .*training\.json describes 8/,
    ],
  ])("%s is %s, one line", (_, code, edit, text) => {
    const dir = modelDir();
    writeCheckpoint(dir, edit);
    expect(() => readCheckpoint(dir)).toThrow(text);
    try {
      readCheckpoint(dir);
    } catch (e) {
      expect((e as { code?: string }).code).toBe(code);
      expect((e as Error).message).not.toContain("\n");
    }
  });
});

describe("saving a model: all or none through src/files/write.ts", () => {
  it("a file that cannot be written is EFF0003 naming it; the earlier model stays whole, no temporaries", async () => {
    const dir = modelDir();
    const before = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
    mkdirSync(join(dir, "history.json")); // a directory where the save puts a file: its rename fails
    writeFileSync(join(dir, "history.json", "keep"), "");
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    await expect(saveModel(model, dir, undefined, [{ name: "history.json", content: "{}" }])).rejects.toThrow(
      /cannot write .*history\.json/,
    );
    await saveModel(model, dir, undefined, [{ name: "history.json", content: "{}" }]).catch((e) =>
      expect(e.code).toBe("EFF0003"),
    );
    model.dispose();
    expect(readdirSync(dir).sort()).toEqual([...Object.keys(before), "history.json"].sort());
    for (const [f, bytes] of Object.entries(before)) expect(readFileSync(join(dir, f)).equals(bytes)).toBe(true);
    expect(statSync(join(dir, "history.json")).isDirectory()).toBe(true);
    // And it still loads as the model it was.
    expect(readModelArtifacts(dir).weightSpecs?.map((w) => w.name)).toEqual([
      "conv/kernel",
      "conv/bias",
      "head/kernel",
      "head/bias",
    ]);
  });
});

it("every EFF501x and EFF502x code (model directories) has a failing case here, every EFF6xxx (images, data folders) in images.test.ts or regressions.test.ts", () => {
  const here = readFileSync(new URL(import.meta.url), "utf8");
  const images = ["./runtime/images.test.ts", "./regressions.test.ts"]
    .map((f) => readFileSync(new URL(f, import.meta.url), "utf8"))
    .join("\n");
  const codes = Object.keys(DIAGNOSTICS);
  expect(codes.filter((c) => /^EFF50[12]/.test(c) && !here.includes(c))).toEqual([]);
  expect(codes.filter((c) => c.startsWith("EFF6") && !images.includes(c))).toEqual([]);
});
