import type { CompiledVariant } from "../../compile.ts";
import { checkTrainingMemory } from "../../cost/training.ts";
import { trainingMemoryLimit } from "../../runtime/backend.ts";
import { reportDiagnostics, type Invocation } from "../command.ts";

/**
 * The training-memory check of train and bench-model: the estimate (src/cost/training.ts)
 * against the backend's limit. Prints EFF0007 and returns true when the run would not
 * fit and --allow-huge was not given.
 */
export function refusedForMemory(
  inv: Invocation,
  compiled: CompiledVariant,
  options: { batch: number; resolution: number; classes?: number },
  backendName: string,
  batchOption: string,
): boolean {
  if (inv.options["allow-huge"] === true) return false;
  const limit = trainingMemoryLimit(backendName);
  const problem = checkTrainingMemory(compiled.ir, { ...options, wasmHeap: limit.wasmHeap }, limit, batchOption);
  if (problem) reportDiagnostics([problem], undefined, inv.io, false);
  return problem !== undefined;
}
