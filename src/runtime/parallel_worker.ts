/**
 * A gradient worker of data-parallel training (the protocol: parallel.ts). Runs in a
 * node:worker_threads thread: activates the main thread's backend (its own instance:
 * a wasm backend here has its own heap), builds the replica from the generated module
 * with the main model's build options and trainable flags, then answers each step with
 * its shard's loss, accuracy, gradients and updated batch-norm moving statistics.
 *
 * Built as an entry point of its own (scripts/build.js: dist/lib/parallel_worker.js), so
 * the bundled CLI starts the same file the sources do.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { selectBackend, type BackendChoice } from "./backend.ts";
import { valuesToTensors } from "./data.ts";
import type { GeneratedModelModule } from "./module.ts";
import {
  weightLayout,
  weightRoles,
  workerDraws,
  type StepRequest,
  type WorkerInit,
  type WorkerReply,
} from "./parallel.ts";
import { lossAndGradients, replicaOf, seededDropoutLayers } from "./train.ts";

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (reply: WorkerReply) => port.postMessage(reply);

/** A failure as one line: the user's message, or the error's first line (an Emscripten abort's is `Aborted(…)`). */
function reason(error: unknown): string {
  const user = (error as { userMessage?: unknown })?.userMessage;
  if (typeof user === "string") return user;
  const message = error instanceof Error ? `${error.message}` : String(error);
  return message.split("\n")[0] || String(error);
}

/**
 * Test hook (test/cli-workers.test.ts): EFFNET_TEST_WORKER_FAULT=step makes each step fail
 * as a wasm abort does, with Emscripten's output on stderr, so the tests can check that the
 * user sees one coded line and the process ends.
 */
function injectedFault(): void {
  if (process.env.EFFNET_TEST_WORKER_FAULT !== "step") return;
  process.stderr.write("Aborted(OOM)\nRuntimeError: Aborted(OOM). Build with -sASSERTIONS for more info.\n");
  for (let i = 0; i < 40; i++) process.stderr.write(`    at wasm://wasm/00a1b2c3:wasm-function[${i}]:0x1234\n`);
  const abort = new Error("Aborted(OOM). Build with -sASSERTIONS for more info.");
  abort.name = "RuntimeError"; // as WebAssembly.RuntimeError, which Emscripten's abort throws
  throw abort;
}

async function start() {
  if (init.prodMode) tf.enableProdMode();
  await selectBackend(init.backend as BackendChoice);
  const module = (await import(init.module)) as GeneratedModelModule;
  const model = module.buildModel(init.build);
  const names = model.weights.map((w) => w.originalName);
  if (names.join("\n") !== init.weightNames.join("\n"))
    throw new Error(`its replica of the model from ${init.module} is not the main thread's network`);
  model.layers.forEach((layer, i) => (layer.trainable = init.trainableLayers[i]));
  const replica = replicaOf(model, init.weightDecay);
  const dropouts = seededDropoutLayers(model);
  dropouts.forEach((layer, i) => (layer.rate = init.dropoutRates[i]));
  const all = model.weights;
  const shapes = all.map((w) => w.shape as number[]);
  const layout = weightLayout(shapes);
  const roles = weightRoles(model);
  const trainableLayout = weightLayout(roles.trainable.map((i) => shapes[i]));
  const movingLayout = weightLayout(roles.moving.map((i) => shapes[i]));
  const weights = new Float32Array(init.weights);
  const gradients = new Float32Array(init.gradients);
  const moving = new Float32Array(init.moving);

  return (request: StepRequest): WorkerReply => {
    injectedFault();
    // Copies (slice): a cpu-backend tensor would otherwise alias the buffer the main thread rewrites.
    tf.tidy(() =>
      all.forEach((w, i) =>
        w.write(tf.tensor(weights.slice(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), shapes[i])),
      ),
    );
    const before = request.dropoutDraws.map((draws) => workerDraws(draws, init.index, init.workers));
    dropouts.forEach((layer, i) => (layer.draws = before[i]));
    const { xs, ys } = valuesToTensors(request.images, request.labels, request);
    try {
      const result = lossAndGradients(replica, xs, ys);
      result.gradients.forEach((g, j) => gradients.set(g.dataSync() as Float32Array, trainableLayout.offsets[j]));
      tf.dispose(result.gradients);
      roles.moving.forEach((i, j) => moving.set(all[i].read().dataSync() as Float32Array, movingLayout.offsets[j]));
      const drawn = dropouts.map((layer, i) => layer.draws - before[i]);
      return { type: "done", loss: result.loss, accuracy: result.accuracy, drawn };
    } finally {
      tf.dispose([xs, ys]);
    }
  };
}

try {
  const step = await start();
  port.on("message", (request: StepRequest) => {
    try {
      send(step(request));
    } catch (error) {
      send({ type: "error", message: reason(error) });
    }
  });
  send({ type: "ready" });
} catch (error) {
  send({ type: "error", message: reason(error) });
}
