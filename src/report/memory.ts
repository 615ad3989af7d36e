import type { NetworkCost } from "../cost/cost.ts";
import {
  DEFAULT_OPTIMIZER,
  OPTIMIZERS,
  trainingMemory,
  type OptimizerDef,
  type OptimizerName,
} from "../cost/training.ts";
import type { NetworkIR } from "../ir/ir.ts";

/**
 * Memory by batch size, float32, for one variant: does B4 at batch 32 fit?
 *
 * - Inference keeps the parameters and, per example, the peak of layer outputs alive at
 *   once in topological order (src/cost/cost.ts).
 * - Training is effnet's training-memory estimate (src/cost/training.ts), the figure
 *   `effnet train` checks against the backend's limit before it allocates: the
 *   parameters, one gradient per trainable parameter, the optimizer's state, per example
 *   the tensors that effnet's trainer keeps from the forward pass for the backward pass
 *   (per layer kind: the inputs or outputs its gradient reads),
 *   the backward pass's working set, and what the wasm heap adds (its initial size,
 *   XNNPACK's packed filters and its growth step). bench/memory.ts measures it against
 *   the trainer's real peak.
 */
export { DEFAULT_OPTIMIZER, OPTIMIZERS, type OptimizerDef, type OptimizerName };

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
    readonly workspace: number;
    readonly heapOverhead: number;
    readonly total: number;
  };
}

export function memoryAtBatch(
  ir: NetworkIR,
  cost: NetworkCost,
  batch: number,
  optimizer: OptimizerName = DEFAULT_OPTIMIZER,
): MemoryAtBatch {
  return memoryByBatch(ir, cost, [batch], optimizer)[0];
}

/** memoryAtBatch for several batches, walking the layers once. */
export function memoryByBatch(
  ir: NetworkIR,
  cost: NetworkCost,
  batches: readonly number[],
  optimizer: OptimizerName = DEFAULT_OPTIMIZER,
): MemoryAtBatch[] {
  const params = cost.memory.paramBytes;
  const trainingAt = trainingMemory(ir, { optimizer });
  return batches.map((batch) => {
    const inferenceActivations = cost.memory.activationBytesPeak * batch;
    const training = trainingAt(batch);
    return {
      batch,
      inference: { params, activations: inferenceActivations, total: params + inferenceActivations },
      training: {
        params: training.weightBytes,
        gradients: training.gradientBytes,
        optimizerState: training.optimizerBytes,
        activations: training.activationBytes,
        workspace: training.workspaceBytes,
        heapOverhead: training.heapOverheadBytes,
        total: training.totalBytes,
      },
    };
  });
}
