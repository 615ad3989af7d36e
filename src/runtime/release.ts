/**
 * Freeing a training step's layer outputs as soon as their last consumer has run.
 *
 * Why: tfjs-layers 4.22 runs a training step's forward pass through `execute` (engine/
 * executor.ts) with `training: true`, and in that mode it keeps every layer's output
 * until the whole forward pass returns (it disposes intermediate outputs only in
 * inference). tfjs-core 4.x already keeps what a gradient needs on its own — the tape
 * saves a clone that holds its own reference to the data (Engine.saveTensorsForBackward
 * Mode) — so an output whose consumers have all run can be disposed in training too: the
 * data lives on exactly as long as some gradient needs it. For EfficientNet-B0 at 224 px
 * the outputs no gradient reads (inputs of residual adds, whose gradient needs shapes
 * only, and the like) were 85 MiB per image at the end of the forward pass, the peak of
 * the step (bench/memory.ts).
 *
 * `releaseLayerOutputsEarly(model)` counts each layer output's consumers in the model's
 * graph and wraps the layers' `apply` (instance methods, this model only): while the
 * model's own training function runs (`trainOnBatch`, `fit`), after a layer has run,
 * each of its inputs that has no consumer left is disposed. Other graphs that share the
 * layers (a `tf.model` over some of its outputs, as recomputeBatchNormStatistics builds)
 * are left alone: their outputs are not this model's.
 * Counts are kept per Tensor object, so a layer that returns its input (an identity)
 * keeps it alive for its own consumers.
 */
import type * as tf from "@tensorflow/tfjs";

interface TrainableModel {
  makeTrainFunction(): (data: tf.Tensor[]) => unknown;
}

interface ApplyingLayer {
  name: string;
  apply(inputs: unknown, kwargs?: Record<string, unknown>): unknown;
  inboundNodes: { inputTensors: { name: string }[]; outputTensors: { name: string }[] }[];
}

const wrapped = new WeakSet<object>();

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const isTensor = (value: unknown): value is tf.Tensor =>
  typeof value === "object" &&
  value !== null &&
  "dataId" in value &&
  typeof (value as tf.Tensor).dispose === "function";

/** Per model: how many of its training steps are running (the release applies only inside one). */
const trainingState = new WeakMap<object, { training: number }>();

/**
 * Runs `step` as one of the model's training steps: while it runs, a layer output is freed
 * after its last consumer (if releaseLayerOutputsEarly was called for the model). effnet's
 * trainer (src/runtime/train.ts, tf.variableGrads) runs its steps through this; tfjs's own
 * `trainOnBatch` and `fit` do so through the wrapped makeTrainFunction.
 */
export function whileTraining<T>(model: object, step: () => T): T {
  const state = trainingState.get(model);
  if (!state) return step();
  state.training++;
  try {
    return step();
  } finally {
    state.training--;
  }
}

export function releaseLayerOutputsEarly(model: tf.LayersModel): void {
  if (wrapped.has(model)) return;
  wrapped.add(model);
  const layers = model.layers as unknown as ApplyingLayer[];
  // Consumers of each symbolic tensor, over the model's own graph (one node per layer in the functional models effnet builds).
  const consumers = new Map<string, number>();
  for (const layer of layers)
    for (const node of layer.inboundNodes)
      for (const input of node.inputTensors) consumers.set(input.name, (consumers.get(input.name) ?? 0) + 1);
  const modelOutputs = new Set(model.outputs.map((o) => o.name));
  // Per Tensor object; weak, so a step that fails half-way leaves nothing behind.
  const remaining = new WeakMap<tf.Tensor, number>();
  const state = { training: 0 };
  trainingState.set(model, state);
  const trainable = model as unknown as TrainableModel;
  const makeTrainFunction = trainable.makeTrainFunction;
  trainable.makeTrainFunction = function () {
    const step = makeTrainFunction.call(this);
    return (data: tf.Tensor[]) => whileTraining(model, () => step(data));
  };

  for (const layer of layers) {
    const node = layer.inboundNodes.at(-1);
    if (!node || node.inputTensors.length === 0) continue; // input layers are never applied
    const original = layer.apply;
    layer.apply = function (inputs: unknown, kwargs?: Record<string, unknown>) {
      const outputs = original.call(this, inputs, kwargs);
      if (state.training === 0 || kwargs?.training !== true) return outputs;
      const values = asList(outputs);
      node.outputTensors.forEach((symbolic, i) => {
        const value = values[i];
        const uses = modelOutputs.has(symbolic.name) ? 0 : (consumers.get(symbolic.name) ?? 0);
        if (isTensor(value) && uses > 0) remaining.set(value, (remaining.get(value) ?? 0) + uses);
      });
      for (const input of asList(inputs)) {
        if (!isTensor(input) || !remaining.has(input)) continue;
        const left = remaining.get(input)! - 1;
        if (left > 0) remaining.set(input, left);
        else {
          remaining.delete(input);
          input.dispose();
        }
      }
      return outputs;
    };
  }
}
