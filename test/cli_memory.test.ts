import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";
import { checkTrainingMemory, trainingMemoryEstimate } from "../src/cost/training.ts";
import { trainingMemoryLimit, WASM_HEAP_LIMIT_BYTES } from "../src/runtime/backend.ts";
import { runCli as run } from "./helpers/cli.ts";

/**
 * The training-memory check (EFF0007): `train` and `bench-model` refuse a batch whose
 * estimate is over the backend's limit before they allocate anything, and name the
 * largest batch that fits; --allow-huge overrides it.
 */
const SPEC = "specs/efficientnet.effnet";
const variantIr = (name: string) =>
  compile({ path: SPEC, text: readFileSync(SPEC, "utf8") }, { variants: [name] }).variants[0].ir;

describe("training-memory check", () => {
  it("train refuses B4 at 380 px, batch 8, on wasm before building the model, naming the batch that fits", async () => {
    const before = tf.memory().numTensors;
    const { code, stderr } = await run(
      "train",
      SPEC,
      "--variant",
      "B4",
      "--synthetic",
      "--images",
      "8",
      "--batch-size",
      "8",
      "--backend",
      "wasm",
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /error\[EFF0007\]: training EfficientNet B4 at 380×380 with batch 8 needs about [\d.]+ GiB, more than 90 % of the wasm backend's 4 GiB heap; the largest batch that fits is \d+/,
    );
    expect(stderr).toMatch(/help: pass --batch-size \d+, or --allow-huge to try anyway/);
    expect(stderr).not.toContain("model:");
    expect(tf.memory().numTensors).toBe(before);
  });

  it("bench-model refuses before printing or measuring anything", async () => {
    const { code, stdout, stderr } = await run(
      "bench-model",
      SPEC,
      "--variant",
      "B0",
      "--backend",
      "wasm",
      "--batch",
      "128",
    );
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /error\[EFF0007\]: training EfficientNet B0 at 224×224 with batch 128 .* the largest batch that fits is \d+/,
    );
    expect(stderr).toMatch(/help: pass --batch \d+/);
  });

  it("the batch it names fits and the next one does not; the estimate grows with the batch", () => {
    const ir = variantIr("B4");
    const limit = trainingMemoryLimit("wasm");
    expect(limit.bytes).toBe(WASM_HEAP_LIMIT_BYTES);
    const problem = checkTrainingMemory(ir, { batch: 8 }, limit, "--batch-size");
    const largest = Number(/largest batch that fits is (\d+)/.exec(problem!.message)![1]);
    expect(largest).toBeGreaterThanOrEqual(2);
    expect(checkTrainingMemory(ir, { batch: largest }, limit, "--batch-size")).toBeUndefined();
    expect(checkTrainingMemory(ir, { batch: largest + 1 }, limit, "--batch-size")).toBeDefined();
    const estimate = trainingMemoryEstimate(ir, { batch: 2 });
    const parts =
      estimate.weightBytes +
      estimate.gradientBytes +
      estimate.optimizerBytes +
      estimate.activationBytes +
      estimate.workspaceBytes +
      estimate.heapOverheadBytes;
    expect(estimate.totalBytes).toBe(parts);
    expect(trainingMemoryEstimate(ir, { batch: 3 }).totalBytes).toBeGreaterThan(estimate.totalBytes);
  });

  it("names batches that B4 (4) and B0 (16, train's default) train at; B0 at 42 is refused", () => {
    const limit = trainingMemoryLimit("wasm");
    expect(checkTrainingMemory(variantIr("B4"), { batch: 4 }, limit, "--batch-size")).toBeUndefined();
    expect(checkTrainingMemory(variantIr("B0"), { batch: 42 }, limit, "--batch-size")).toBeDefined();
  });

  it("B0 at 224 px, batch 16 (train's default), fits wasm", () => {
    expect(
      checkTrainingMemory(variantIr("B0"), { batch: 16, classes: 3 }, trainingMemoryLimit("wasm"), "--batch-size"),
    ).toBeUndefined();
  });
});
