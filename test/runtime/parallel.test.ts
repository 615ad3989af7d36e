import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.ts";
import { batchValues, shapesDataset, valuesToTensors } from "../../src/runtime/data.ts";
import {
  autoWorkers,
  GradientWorkers,
  MIN_SHARD_PIXELS,
  shardSizes,
  TrainingWorkerError,
  weightRoles,
  workerDraws,
  type WorkerOptions,
} from "../../src/runtime/parallel.ts";
import {
  lossAndGradients,
  replicaOf,
  scaleDropConnect,
  seededDropoutLayers,
  trainModel,
} from "../../src/runtime/train.ts";
import { buildModel as buildB0 } from "../../generated/efficientnet/b0.ts";

/**
 * Data-parallel training (src/runtime/parallel.ts): the workers' averaged gradients are
 * the gradients one thread computes by accumulation over the same shards (each shard
 * normalised with its own batch statistics, as PyTorch DDP without SyncBatchNorm), and
 * runs repeat with the same seed and the same number of workers.
 */

const B0 = new URL("../../generated/efficientnet/b0.ts", import.meta.url);
const build = { classes: 3, resolution: 32, seed: 3 };
const workersOf = (count: number): WorkerOptions => ({ count, module: B0, build });

beforeAll(async () => {
  tf.enableProdMode();
  await selectBackend("wasm");
});

describe("data-parallel gradients", () => {
  const data = shapesDataset({ count: 16, resolution: 32, seed: 7 });
  const model = buildB0(build);
  let workers: GradientWorkers;
  afterAll(async () => {
    await workers?.close();
    model.dispose();
  });

  it("equal one thread's gradients accumulated shard by shard, and batch norm's moving statistics their average", async () => {
    const weightDecay = 1e-3;
    const replica = replicaOf(model, weightDecay);
    const dropouts = seededDropoutLayers(model);
    // Some draws already made, as in the middle of a run.
    dropouts.forEach((l) => (l.draws = 5));
    const indices = [3, 1, 4, 15, 9, 2, 6, 5, 11];
    const batch = batchValues(data, indices);
    const image = { height: 32, width: 32, classes: 3 };
    const start = model.getWeights().map((w) => w.clone());
    const { moving } = weightRoles(model);
    const pixels = 32 * 32 * 3;

    // One thread: shard k (of 5 and 4 images) with worker k's dropout draws, weighted by its share.
    const sizes = shardSizes(indices.length, 3);
    expect(sizes).toEqual([3, 3, 3]);
    const twoShards = shardSizes(indices.length, 2);
    expect(twoShards).toEqual([5, 4]);
    const expected = replica.variables.map((v) => new Float64Array(v.size));
    const expectedMoving = moving.map((i) => new Float64Array(model.weights[i].shape.reduce((a, b) => a! * b!, 1)!));
    let first = 0;
    for (const [k, count] of twoShards.entries()) {
      model.setWeights(start);
      dropouts.forEach((l) => (l.draws = workerDraws(5, k, 2)));
      const values = batch.values.slice(first * pixels, (first + count) * pixels);
      const { xs, ys } = valuesToTensors(values, batch.labels.slice(first, first + count), image);
      const { gradients } = lossAndGradients(replica, xs, ys);
      gradients.forEach((g, j) => g.dataSync().forEach((x, e) => (expected[j][e] += (count / indices.length) * x)));
      moving.forEach((i, j) =>
        model.weights[i]
          .read()
          .dataSync()
          .forEach((x, e) => (expectedMoving[j][e] += (count / indices.length) * x)),
      );
      tf.dispose([xs, ys, ...gradients]);
      first += count;
    }
    model.setWeights(start);

    workers = await GradientWorkers.start(model, workersOf(2), weightDecay);
    const step = await workers.step(
      batch,
      image,
      dropouts.map(() => 5),
    );
    expect(step.drawn.every((d) => d === 1)).toBe(true);

    const flatExpected = Float64Array.from(expected.flatMap((e) => Array.from(e)));
    const largest = flatExpected.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const gap = step.gradients.reduce((m, x, i) => Math.max(m, Math.abs(x - flatExpected[i])), 0);
    expect(largest).toBeGreaterThan(1e-3); // a real gradient, not zeros
    expect(gap).toBeLessThanOrEqual(1e-4);
    const movingGap = moving.reduce(
      (m, i, j) =>
        Math.max(m, ...Array.from(model.weights[i].read().dataSync(), (x, e) => Math.abs(x - expectedMoving[j][e]))),
      0,
    );
    expect(movingGap).toBeLessThanOrEqual(1e-4);
    tf.dispose(start);
  });
});

async function losses(workers: number): Promise<number[]> {
  const data = shapesDataset({ count: 24, resolution: 32, seed: 5 });
  const model = buildB0(build);
  try {
    const { history } = await trainModel(model, data, {
      epochs: 2,
      batchSize: 12,
      seed: 5,
      augment: true,
      learningRate: 3e-3,
      preciseBatchNormImages: 0,
      workers: workersOf(workers),
    });
    return history.map((p) => p.loss);
  } finally {
    model.dispose();
  }
}

describe("data-parallel training", () => {
  it("repeats its losses with the same seed and the same workers", async () => {
    const first = await losses(2);
    expect(first).toHaveLength(4);
    expect(first.every(Number.isFinite)).toBe(true);
    expect(await losses(2)).toEqual(first);
  });
});

describe("a run's own dropout rates (train --drop-connect)", () => {
  it("reach the workers' replicas", async () => {
    const model = buildB0(build);
    scaleDropConnect(model, 0);
    const workers = await GradientWorkers.start(model, workersOf(2), 0);
    try {
      const data = shapesDataset({ count: 4, resolution: 32, seed: 7 });
      const layers = seededDropoutLayers(model);
      const step = await workers.step(
        batchValues(data, [0, 1, 2, 3]),
        { height: 32, width: 32, classes: 3 },
        layers.map(() => 0),
      );
      // A layer at rate 0 draws no mask: the drop-connect layers none, the classifier's dropout (0.2) one.
      expect(step.drawn).toEqual(layers.map((l) => (l.name === "top_dropout" ? 1 : 0)));
    } finally {
      await workers.close();
      model.dispose();
    }
  });
});

describe("a worker that fails", () => {
  it("surfaces as a TrainingWorkerError naming it, and the pool ends", async () => {
    const model = buildB0(build);
    const broken: WorkerOptions = {
      count: 2,
      module: new URL("data:text/javascript,throw new Error('no module here')"),
      build,
    };
    const error = await GradientWorkers.start(model, broken, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingWorkerError);
    expect((error as TrainingWorkerError).userMessage).toMatch(/^training worker [12] of 2 failed: no module here$/);
    model.dispose();
  });
});

describe("--workers auto", () => {
  it("uses one worker per core on wasm and cpu when each shard has enough work, else one", () => {
    const cores = availableParallelism();
    expect(autoWorkers("wasm", 16, 224)).toBe(Math.min(cores, 16));
    expect(autoWorkers("cpu", 16, 224)).toBe(Math.min(cores, 16));
    expect(autoWorkers("tensorflow", 16, 224)).toBe(1);
    // The README demo's 32 px: a step is mostly fixed per-op cost; a second worker would pay it again.
    expect(autoWorkers("wasm", 32, 32)).toBe(1);
    // 2 images at 224 px are 1 shard's worth of work, 4 images 2; 64 px batch 32 is 1 (measured slower on 2).
    expect(autoWorkers("wasm", 2, 224)).toBe(1);
    expect(autoWorkers("wasm", 4, 224)).toBe(Math.min(cores, 2));
    expect(autoWorkers("wasm", 32, 64)).toBe(1);
    expect(autoWorkers("wasm", (2 * MIN_SHARD_PIXELS) / (64 * 64), 64)).toBe(Math.min(cores, 2));
  });
});
