/**
 * Data-parallel training over worker threads: the main thread's side of the protocol.
 *
 * Why threads: tfjs-backend-wasm runs its kernels on the thread that calls them (its
 * multi-threaded build needs SharedArrayBuffer workers that tfjs only starts in browsers),
 * and the cpu backend is plain JavaScript, so one trainer uses one core. Each worker
 * (parallel_worker.ts) is a node:worker_threads thread with its own tfjs, its own backend
 * (its own wasm heap) and its own replica of the model, built from the same generated
 * module.
 *
 * One step (PyTorch DistributedDataParallel's scheme, without SyncBatchNorm): the main
 * thread writes the model's weights into one SharedArrayBuffer that every worker reads;
 * worker k gets the k-th contiguous shard of the batch (the batch the single-thread
 * trainer would use: same shuffle, same augmentation), computes the shard's loss and
 * gradients with its own batch-norm statistics, and writes them into a SharedArrayBuffer
 * of its own; the main thread averages them weighted by shard size and applies its
 * optimiser once. So the update is exactly what one thread computes by gradient
 * accumulation over the same shards (up to the order of the float additions): tested in
 * test/runtime/parallel.test.ts. Batch norm's moving averages become the shard-size
 * weighted mean of the workers' updated ones. Dropout masks: worker k of N draws the mask
 * a single thread would draw as its (N·d + k)-th, where d counts the steps, so shards get
 * different masks and a run repeats with the same seed and the same N.
 *
 * The main thread keeps the model and the optimiser (checkpoints, validation and precise
 * batch norm run there as before); it waits while the workers compute.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { seededDropoutLayers } from "./dropout.ts";
import { RuntimeUserError } from "./errors.ts";
import type { BuildOptions } from "./module.ts";

/** Training on worker threads (TrainOptions.workers). */
export interface WorkerOptions {
  /** How many worker threads split each batch; 1 trains on the calling thread. */
  readonly count: number;
  /** The generated module the model was built from (a path, or a file: URL): each worker builds its replica with it. */
  readonly module: string | URL;
  /** The buildModel options the model was built with (its weights are sent to the workers, so only its architecture matters). */
  readonly build: BuildOptions;
}

/** A worker thread failed (could not start, threw, ran out of memory, exited): the CLI prints EFF0008. */
export class TrainingWorkerError extends RuntimeUserError {
  readonly worker: number;
  readonly workers: number;
  readonly reason: string;

  constructor(worker: number, workers: number, reason: string) {
    super(`training worker ${worker + 1} of ${workers} failed: ${reason}`);
    this.name = "TrainingWorkerError";
    this.worker = worker;
    this.workers = workers;
    this.reason = reason;
  }
}

/**
 * How many workers `--workers auto` uses: one per core the process may use, for the
 * backends whose kernels run on the calling thread (wasm, cpu), as long as each worker's
 * shard holds at least MIN_SHARD_PIXELS pixels: below it a step is mostly fixed cost (tfjs's
 * per-op overhead over B0's ~250 layers and their gradients), which every worker pays in
 * full (bench/workers.ts). tfjs-node runs its kernels on TensorFlow's own thread pool: 1.
 */
export function autoWorkers(backendName: string, batchSize: number, resolution: number): number {
  if (backendName !== "wasm" && backendName !== "cpu") return 1;
  const byWork = Math.floor((batchSize * resolution * resolution) / MIN_SHARD_PIXELS);
  return Math.max(1, Math.min(availableParallelism(), batchSize, byWork));
}

/**
 * The least work (images × height × width of a shard) auto gives a worker, from
 * bench/workers.ts on an idle 2-core machine: B0 at 224 px, batch 16 (8 images of 224² a
 * shard) ran 1.49× faster on 2 workers; at 64 px batch 32 (16 of 64²) 0.82×, at 32 px 0.64×.
 */
export const MIN_SHARD_PIXELS = 8 * 112 * 112;

/** Where each of a model's weights sits in a flat float32 buffer (model.weights order). */
export interface WeightLayout {
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  readonly total: number;
}

export function weightLayout(shapes: readonly (readonly number[])[]): WeightLayout {
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += size;
  }
  return { offsets, sizes, total };
}

/** Indices into model.weights of the trainable ones (in trainableWeights order) and of batch norm's moving statistics. */
export function weightRoles(model: tf.LayersModel): { trainable: number[]; moving: number[] } {
  const all = model.weights;
  const trainable = model.trainableWeights.map((w) => all.indexOf(w));
  const moving = model.layers
    .filter((l) => l.getClassName() === "BatchNormalization")
    .flatMap((l) => l.weights.filter((w) => /\/moving_(mean|variance)$/.test(w.originalName)))
    .map((w) => all.indexOf(w));
  return { trainable, moving };
}

/** What a worker is started with (workerData). */
export interface WorkerInit {
  readonly index: number;
  readonly workers: number;
  readonly module: string;
  readonly build: BuildOptions;
  readonly backend: string;
  readonly prodMode: boolean;
  /** Each layer's trainable flag (fine-tuning freezes some). */
  readonly trainableLayers: readonly boolean[];
  /** The main model's seeded dropout rates, in layer order (a run may change them: scaleDropConnect). */
  readonly dropoutRates: readonly number[];
  /** model.weights' original names, so a worker can check that its replica is the same network. */
  readonly weightNames: readonly string[];
  readonly weightDecay: number;
  /** All of model.weights, flat (weightLayout); written by the main thread before each step. */
  readonly weights: SharedArrayBuffer;
  /** This worker's gradients (its trainable weights, flat) and moving statistics, written by it. */
  readonly gradients: SharedArrayBuffer;
  readonly moving: SharedArrayBuffer;
}

/** Main thread → worker. */
export interface StepRequest {
  readonly type: "step";
  /** The shard's pixels in [0, 1], count × size × size × 3, and its labels. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  /** The main model's dropout-layer draw counters (the workers derive their own from them). */
  readonly dropoutDraws: readonly number[];
}

/** Worker → main thread. */
export type WorkerReply =
  | { readonly type: "ready" }
  | {
      readonly type: "done";
      readonly loss: number;
      readonly accuracy: number;
      /** Masks each dropout layer drew (0 or 1: a layer with rate 0 draws none). */
      readonly drawn: readonly number[];
    }
  | { readonly type: "error"; readonly message: string };

/** The draw counter worker `index` of `workers` uses for a layer whose main counter is `draws`. */
export function workerDraws(draws: number, index: number, workers: number): number {
  return draws * workers + index;
}

/** Sizes of the contiguous shards a batch of `count` is split into: as equal as possible, larger ones first. */
export function shardSizes(count: number, workers: number): number[] {
  const base = Math.floor(count / workers);
  return Array.from({ length: workers }, (_, k) => base + (k < count % workers ? 1 : 0));
}

/**
 * The worker's entry: the built file beside this one in dist/lib/, or the source file,
 * which a worker loads through tsx (a devDependency, present wherever sources run).
 */
function workerScript(): URL {
  const fromSources = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSources ? "./parallel_worker.ts" : "./parallel_worker.js", import.meta.url);
  if (!fromSources) return entry;
  // A worker does not inherit the main thread's loader hooks, and Node 20 ignores
  // `--import` in a worker's execArgv: the worker registers tsx itself, then imports the entry.
  // tsx's ESM API (its package exports' `import` condition; require.resolve would find the CommonJS one).
  const tsxPackage = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = JSON.parse(readFileSync(tsxPackage, "utf8")).exports["./esm/api"].import.default as string;
  const tsx = new URL(exports, pathToFileURL(tsxPackage)).href;
  const code = `const api = await import(${JSON.stringify(tsx)}); (api.register ?? api.default.register)(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The last lines a worker printed to stderr, for the error message (Emscripten prints its abort there). */
const STDERR_LINES = 20;

/** One worker thread and the promise of its current reply. */
class GradientWorker {
  readonly thread: Worker;
  readonly gradients: Float32Array;
  readonly moving: Float32Array;
  private stderr: string[] = [];
  private pending?: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };
  private failure?: TrainingWorkerError;

  constructor(
    readonly index: number,
    private readonly workers: number,
    init: WorkerInit,
  ) {
    this.gradients = new Float32Array(init.gradients);
    this.moving = new Float32Array(init.moving);
    this.thread = new Worker(workerScript(), { workerData: init, stdout: true, stderr: true });
    // The worker's own output is kept, not shown: an Emscripten abort prints pages of it.
    this.thread.stdout.on("data", (chunk: Buffer) => {
      if (process.env.EFFNET_DEBUG) process.stderr.write(chunk);
    });
    this.thread.stderr.on("data", (chunk: Buffer) => {
      if (process.env.EFFNET_DEBUG) process.stderr.write(chunk);
      this.stderr.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      this.stderr = this.stderr.slice(-STDERR_LINES);
    });
    this.thread.on("message", (reply: WorkerReply) => {
      if (reply.type === "error") this.fail(reply.message);
      else this.settle()?.resolve(reply);
    });
    this.thread.on("error", (error) => this.fail(firstLine(error)));
    this.thread.on("exit", (code) => this.fail(`it exited with code ${code}${this.lastWords()}`));
    this.ready = this.reply(); // its first message says it has built its replica
  }

  readonly ready: Promise<WorkerReply>;

  private lastWords(): string {
    const line = this.stderr.findLast((l) => /abort|error|memory/i.test(l)) ?? this.stderr.at(-1);
    return line ? ` (${line.trim().slice(0, 200)})` : "";
  }

  private settle() {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }

  private fail(reason: string): void {
    this.failure ??= new TrainingWorkerError(this.index, this.workers, reason);
    this.settle()?.reject(this.failure);
  }

  /** The promise of the next reply (rejected with the worker's failure). */
  reply(): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  post(request: StepRequest, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    const reply = this.reply();
    if (!this.failure) this.thread.postMessage(request, transfer);
    return reply;
  }

  async close(): Promise<void> {
    this.failure ??= new TrainingWorkerError(this.index, this.workers, "the pool was closed");
    this.thread.removeAllListeners("exit");
    await this.thread.terminate();
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

/** The result of one data-parallel step: the batch's loss and accuracy and its gradients (trainable weights, flat). */
export interface ParallelStep {
  readonly loss: number;
  readonly accuracy: number;
  readonly gradients: Float32Array;
  /** Masks each dropout layer drew in one replica: what the main model's counters advance by. */
  readonly drawn: readonly number[];
}

/** A pool of gradient workers for one model. */
export class GradientWorkers {
  private readonly weights: Float32Array;
  private readonly layout: WeightLayout;
  private readonly roles: { trainable: number[]; moving: number[] };
  private readonly trainableLayout: WeightLayout;
  private readonly movingLayout: WeightLayout;

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly pool: GradientWorker[],
    weights: SharedArrayBuffer,
  ) {
    this.weights = new Float32Array(weights);
    const shapes = model.weights.map((w) => w.shape as number[]);
    this.layout = weightLayout(shapes);
    this.roles = weightRoles(model);
    this.trainableLayout = weightLayout(this.roles.trainable.map((i) => shapes[i]));
    this.movingLayout = weightLayout(this.roles.moving.map((i) => shapes[i]));
  }

  get count(): number {
    return this.pool.length;
  }

  /** Starts `options.count` workers for `model` on the current backend and waits until each has built its replica. */
  static async start(model: tf.LayersModel, options: WorkerOptions, weightDecay: number): Promise<GradientWorkers> {
    const shapes = model.weights.map((w) => w.shape as number[]);
    const roles = weightRoles(model);
    const floats = (n: number) => new SharedArrayBuffer(4 * n);
    const weights = floats(weightLayout(shapes).total);
    const base = {
      workers: options.count,
      module:
        typeof options.module === "string" && !/^(file|data):/.test(options.module)
          ? pathToFileURL(options.module).href
          : String(options.module),
      build: options.build,
      backend: tf.getBackend(),
      prodMode: tf.env().getBool("PROD"),
      trainableLayers: model.layers.map((l) => l.trainable),
      dropoutRates: seededDropoutLayers(model).map((l) => l.rate),
      weightNames: model.weights.map((w) => w.originalName),
      weightDecay,
      weights,
    };
    const pool = Array.from(
      { length: options.count },
      (_, index) =>
        new GradientWorker(index, options.count, {
          ...base,
          index,
          gradients: floats(weightLayout(roles.trainable.map((i) => shapes[i])).total),
          moving: floats(weightLayout(roles.moving.map((i) => shapes[i])).total),
        }),
    );
    const workers = new GradientWorkers(model, pool, weights);
    try {
      // The constructor asked for each worker's first reply ("ready"); wait for all of them.
      await Promise.all(pool.map((w) => w.ready));
    } catch (error) {
      await workers.close();
      throw error;
    }
    return workers;
  }

  /**
   * One data-parallel step on a batch (pixels in [0, 1], as batchValues returns them): the
   * shards' gradients averaged by shard size, and the model's batch-norm moving
   * statistics replaced by the shards' averaged ones. The caller applies the gradients.
   */
  async step(
    batch: { values: Float32Array; labels: Int32Array; count: number },
    image: { height: number; width: number; classes: number },
    dropoutDraws: readonly number[],
  ): Promise<ParallelStep> {
    const all = this.model.weights;
    all.forEach((w, i) => this.weights.set(w.read().dataSync() as Float32Array, this.layout.offsets[i]));
    const pixels = image.height * image.width * 3;
    const sizes = shardSizes(batch.count, this.pool.length);
    let start = 0;
    const shards = sizes.map((count) => {
      const first = start;
      start += count;
      return { first, count };
    });
    const active = shards.map((s, k) => ({ ...s, worker: this.pool[k] })).filter((s) => s.count > 0);
    const replies = await Promise.all(
      active.map(({ first, count, worker }) => {
        const images = batch.values.slice(first * pixels, (first + count) * pixels);
        const labels = batch.labels.slice(first, first + count);
        return worker.post({ type: "step", images, labels, count, ...image, dropoutDraws }, [
          images.buffer as ArrayBuffer,
          labels.buffer as ArrayBuffer,
        ]);
      }),
    );
    const gradients = new Float32Array(this.trainableLayout.total);
    const moving = new Float32Array(this.movingLayout.total);
    let loss = 0;
    let accuracy = 0;
    active.forEach(({ count, worker }, k) => {
      const reply = replies[k] as Extract<WorkerReply, { type: "done" }>;
      const share = count / batch.count;
      loss += share * reply.loss;
      accuracy += share * reply.accuracy;
      addScaled(gradients, worker.gradients, share);
      addScaled(moving, worker.moving, share);
    });
    tf.tidy(() =>
      this.roles.moving.forEach((i, j) => {
        const offset = this.movingLayout.offsets[j];
        all[i].write(tf.tensor(moving.subarray(offset, offset + this.movingLayout.sizes[j]), all[i].shape as number[]));
      }),
    );
    const drawn = (replies[0] as Extract<WorkerReply, { type: "done" }>).drawn;
    return { loss, accuracy, gradients, drawn };
  }

  /** The step's flat gradients as one tensor per trainable variable (the caller disposes them). */
  gradientTensors(gradients: Float32Array): tf.Tensor[] {
    const trainable = this.roles.trainable.map((i) => this.model.weights[i]);
    return trainable.map((w, j) => {
      const offset = this.trainableLayout.offsets[j];
      return tf.tensor(gradients.subarray(offset, offset + this.trainableLayout.sizes[j]), w.shape as number[]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.close()));
  }
}

/** into += scale · from, elementwise. */
function addScaled(into: Float32Array, from: Float32Array, scale: number): void {
  for (let i = 0; i < into.length; i++) into[i] += scale * from[i];
}
