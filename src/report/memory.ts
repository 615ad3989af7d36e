import { BYTES_PER_FLOAT, type NetworkCost } from "../cost/cost.ts";

/**
 * Memory by batch size, float32, for one variant: does B4 at batch 32 fit?
 *
 * - Inference keeps the parameters and, per example, the peak of layer outputs alive at
 *   once in topological order (src/cost/cost.ts).
 * - Training keeps the parameters, one gradient per trainable parameter, the optimizer's
 *   state, and, per example, every layer's output: backpropagation needs each layer's
 *   input (or output) to compute its gradients, so the forward pass's activations stay
 *   alive until the backward pass has used them. This is an upper bound: frameworks that
 *   fuse batch norm and activations in place, or recompute (gradient checkpointing),
 *   keep less; workspace buffers and the backward pass's own temporaries are not counted.
 */
export interface OptimizerDef {
  /** Floats of state per trainable parameter. */
  readonly statePerParam: number;
  readonly description: string;
}

/** The one table of optimizers whose state the memory estimate knows. */
export const OPTIMIZERS = {
  // Kingma & Ba 2015: first and second moment estimates, one float each per parameter.
  adam: { statePerParam: 2, description: "Adam: first and second moments, 2 floats per trainable parameter" },
  // Plain SGD keeps nothing; with momentum, one velocity per parameter.
  sgd: { statePerParam: 0, description: "SGD without momentum: no state" },
  momentum: { statePerParam: 1, description: "SGD with momentum: 1 float per trainable parameter" },
  // RMSProp (Hinton's lecture 6e; the EfficientNet paper's optimizer, section 5.2): one mean square per parameter.
  rmsprop: { statePerParam: 1, description: "RMSProp: 1 float (mean square) per trainable parameter" },
} as const satisfies Record<string, OptimizerDef>;

export type OptimizerName = keyof typeof OPTIMIZERS;
export const DEFAULT_OPTIMIZER: OptimizerName = "adam";

/** Batch sizes a report shows when none are asked for: one example, and a typical training batch. */
export const DEFAULT_BATCHES: readonly number[] = [1, 32];

export interface MemoryAtBatch {
  readonly batch: number;
  readonly inference: { readonly params: number; readonly activations: number; readonly total: number };
  readonly training: {
    readonly params: number;
    readonly gradients: number;
    readonly optimizerState: number;
    readonly activations: number;
    readonly total: number;
  };
}

export function memoryAtBatch(
  cost: NetworkCost,
  batch: number,
  optimizer: OptimizerName = DEFAULT_OPTIMIZER,
): MemoryAtBatch {
  const params = cost.memory.paramBytes;
  const gradients = cost.params.trainable * BYTES_PER_FLOAT;
  const optimizerState = cost.params.trainable * OPTIMIZERS[optimizer].statePerParam * BYTES_PER_FLOAT;
  const inferenceActivations = cost.memory.activationBytesPeak * batch;
  const trainingActivations = cost.memory.activationBytesTotal * batch;
  return {
    batch,
    inference: { params, activations: inferenceActivations, total: params + inferenceActivations },
    training: {
      params,
      gradients,
      optimizerState,
      activations: trainingActivations,
      total: params + gradients + optimizerState + trainingActivations,
    },
  };
}
