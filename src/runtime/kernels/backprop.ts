/**
 * Backpropagation that frees as it goes: a replacement for tfjs-core 4.22's
 * `Engine.gradients` (engine.ts) and `backpropagateGradients` (tape.ts), the code every
 * `model.fit`, `trainOnBatch`, `optimizer.minimize` and `tf.grads` runs.
 *
 * Why: tfjs-core keeps, until the whole backward pass has finished,
 *  - every tensor any forward op saved for its gradient (`node.saved`), and
 *  - the gradient of every intermediate tensor of the graph (its
 *    `accumulatedGradientMap`, disposed only when the 'backward' tidy ends).
 * So the peak of a training step is all saved activations plus a gradient for each of
 * them: for EfficientNet-B0 at 224 px, about 600 MB per image, most of a 4 GiB wasm heap
 * at batch 6 (measured with bench/memory.ts). The walk over the tape is in reverse
 * topological order, so once node N's input gradients are computed,
 *  - N's saved tensors are never read again (each node's gradient reads only its own), and
 *  - the gradients of N's outputs are complete (all their consumers came later in the
 *    tape and have been processed) and are never read again, unless one is a gradient the
 *    caller asked for;
 * this version disposes both right there. Nodes that do not lie between xs and y never
 * run their gradient, so their saved tensors are freed as soon as the tape is filtered.
 * The peak becomes the saved activations (falling as the walk proceeds) plus the
 * gradients of one "frontier" of the graph.
 *
 * Everything else is tfjs-core's: the same forward tidy, tape filtering (transcribed from
 * tape.ts `getFilteredNodesXToY`), order of accumulation (`add` of contributions in tape
 * order), dtype and shape checks, and the higher-order case (gradientDepth > 0) keeps
 * saved tensors for the outer tape as tfjs-core does. Gradients are bit-identical to
 * tfjs-core's (tested in test/runtime/backprop.test.ts).
 *
 * Second, a tape node keeps what its gradient needs and no more: several gradients read
 * only the *shape* of a saved input (tfjs-core's Reshape, and effnet's Add, Sub and Mean
 * in elementwise_grad.ts), yet tfjs-core keeps the whole tensor alive for them until the
 * backward pass ends. A training-mode batch norm runs `tf.moments`, whose second Mean
 * saves the full-size squared deviations and whose Sub saves a full-size float32 copy of
 * the input just for their shapes. For those kernels (SHAPE_ONLY_SAVES) the tape keeps a
 * shape-only stand-in instead, so the data is freed with the layer's tidy.
 *
 * A gradient may return the very Tensor object it was given (an identity) or share one
 * between inputs, so gradient tensors are reference-counted by object, and a saved
 * tensor that has become a gradient is not disposed with the node.
 */
import * as tf from "@tensorflow/tfjs";
import type { DataType, GradConfig, NamedTensorMap, Tensor } from "@tensorflow/tfjs";
import { addGradConfig, meanGradConfig, subGradConfig } from "./elementwise_grad.ts";

/** The parts of a tfjs-core tape node this file reads (tape.ts `TapeNode`). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, Tensor>;
  outputs: Tensor[];
  saved?: Tensor[];
  gradient?: (dys: (Tensor | null)[]) => Record<string, () => Tensor>;
}

/**
 * Kernels whose registered gradient reads nothing of its saved tensors but `.shape` (and
 * `.dtype`): the gradient config it must be (so a replaced gradient that reads values is
 * never given a stand-in), and where that is visible.
 */
const SHAPE_ONLY_SAVES: readonly { kernelName: string; gradConfig: () => GradConfig | undefined; reads: string }[] = [
  { kernelName: tf.Add, gradConfig: () => addGradConfig, reads: "a.shape, b.shape (elementwise_grad.ts)" },
  { kernelName: tf.Sub, gradConfig: () => subGradConfig, reads: "a.shape, b.shape (elementwise_grad.ts)" },
  { kernelName: tf.Mean, gradConfig: () => meanGradConfig, reads: "x.shape (elementwise_grad.ts)" },
  {
    kernelName: tf.Reshape,
    gradConfig: () => tfjsReshapeGradient,
    reads: "x.shape (tfjs-core 4.22 gradients/Reshape_grad.ts: reshape(dy, x.shape))",
  },
];
/** tfjs-core's own Reshape gradient, as registered when effnet installs its backprop. */
let tfjsReshapeGradient: GradConfig | undefined;

/** What a tape keeps of a tensor whose gradient needs only its shape: no data, nothing to free. */
interface ShapeOnly {
  readonly shapeOnly: true;
  readonly shape: number[];
  readonly dtype: DataType;
  readonly size: number;
  readonly rank: number;
  readonly isDisposed: boolean;
  dispose(): void;
}

const shapeOnly = (t: Tensor): ShapeOnly => ({
  shapeOnly: true,
  shape: t.shape,
  dtype: t.dtype,
  size: t.size,
  rank: t.rank,
  isDisposed: false,
  dispose: () => {},
});
const isShapeOnly = (t: Tensor | ShapeOnly): t is ShapeOnly => (t as ShapeOnly).shapeOnly === true;

/** The parts of tfjs-core's Engine this file uses (engine.ts). */
interface EngineInternals {
  getTensorsForGradient(kernelName: string, inputs: NamedTensorMap, outputs: Tensor[]): Tensor[];
  saveTensorsForBackwardMode(tensors: Tensor[]): Tensor[];
  keep<T extends Tensor>(t: T): T;
  clone<T extends Tensor>(t: T): T;
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
  tidy<T extends tf.TensorContainer>(f: () => T): T;
  gradients(f: () => Tensor, xs: Tensor[], dy?: Tensor, allowNoGradients?: boolean): { value: Tensor; grads: Tensor[] };
}

/** tfjs-core 4.22 tape.ts `getFilteredNodesXToY`, transcribed: the nodes on a path from xs to y, inputs pruned to those that depend on xs. */
function filterTape(tape: readonly TapeNode[], xs: readonly Tensor[], y: Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => fromX.has(input.id))) {
      node.outputs.forEach((output) => fromX.add(output.id));
      nodesFromX.add(node.id);
    }
  }
  const leadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((output) => leadToY.has(output.id))) {
      const inputs = Object.values(node.inputs);
      inputs.forEach((input) => leadToY.add(input.id));
      if (inputs.length > 0) nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const prunedInputs: Record<string, Tensor> = {};
    for (const [name, input] of Object.entries(node.inputs)) if (fromX.has(input.id)) prunedInputs[name] = input;
    filtered.push({ ...node, inputs: prunedInputs, outputs: node.outputs });
  }
  return filtered;
}

/** Tensor id → its accumulated gradient, with tensors reference-counted by object (see header). */
class GradientMap {
  private readonly byId = new Map<number, Tensor>();
  private readonly uses = new Map<Tensor, number>();

  get(id: number): Tensor | undefined {
    return this.byId.get(id);
  }
  has(tensor: Tensor): boolean {
    return (this.uses.get(tensor) ?? 0) > 0;
  }
  set(id: number, gradient: Tensor): void {
    const previous = this.byId.get(id);
    this.byId.set(id, gradient);
    this.uses.set(gradient, (this.uses.get(gradient) ?? 0) + 1);
    if (previous) this.release(previous);
  }
  /** Forgets tensor `id`'s gradient, disposing it unless another entry (or `keep`) still holds it. */
  delete(id: number, keep: ReadonlySet<Tensor>): void {
    const gradient = this.byId.get(id);
    if (!gradient) return;
    this.byId.delete(id);
    const left = (this.uses.get(gradient) ?? 1) - 1;
    this.uses.set(gradient, left);
    if (left === 0 && !keep.has(gradient)) {
      this.uses.delete(gradient);
      gradient.dispose();
    }
  }
  private release(gradient: Tensor): void {
    const left = (this.uses.get(gradient) ?? 1) - 1;
    this.uses.set(gradient, left);
    if (left === 0) {
      this.uses.delete(gradient);
      gradient.dispose();
    }
  }
}

function disposeSaved(node: TapeNode, gradients: GradientMap): void {
  for (const tensor of node.saved ?? []) if (!gradients.has(tensor)) tensor.dispose();
}

/** The walk of tape.ts `backpropagateGradients`, freeing each node's saved tensors and output gradients once it is done. */
function backpropagate(
  engine: EngineInternals,
  tape: readonly TapeNode[],
  gradients: GradientMap,
  keep: ReadonlySet<Tensor>,
  keepIds: ReadonlySet<number>,
  freeSaved: boolean,
): void {
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const dys = node.outputs.map((o) => gradients.get(o.id) ?? null);
    if (node.gradient == null)
      throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    // One tidy for the whole node: a gradient may compute in its body, outside the
    // closures it returns (customGrad's gradFunc, e.g. fused.conv2d's dx and dw), and
    // tfjs-core leaves those intermediates, and the results for pruned inputs, alive until
    // the backward pass ends.
    const inputNames = Object.keys(node.inputs);
    const dxs = engine.tidy(() => {
      const inputGradients = node.gradient!(dys);
      return inputNames.map((inputName) => {
        if (!(inputName in inputGradients))
          throw new Error(
            `Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`,
          );
        return inputGradients[inputName]();
      });
    });
    inputNames.forEach((inputName, k) => {
      const dx = dxs[k];
      if (dx.dtype !== "float32")
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      const x = node.inputs[inputName];
      if (!tf.util.arraysEqual(dx.shape, x.shape))
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      const current = gradients.get(x.id);
      gradients.set(x.id, current == null ? dx : tf.add(current, dx));
      // The contribution is in the sum now; free it unless it is also someone's gradient (an identity).
      if (current != null && !gradients.has(dx) && !keep.has(dx)) dx.dispose();
    });
    // Done with this node: nothing reads its saved tensors or its outputs' gradients again.
    if (freeSaved) disposeSaved(node, gradients);
    for (const output of node.outputs) if (!keepIds.has(output.id)) gradients.delete(output.id, keep);
  }
}

/** `Engine.gradients` (tfjs-core 4.22 engine.ts) with the early disposal described in the header. */
function leanGradients(
  this: EngineInternals,
  f: () => Tensor,
  xs: Tensor[],
  dy?: Tensor,
  allowNoGradients = false,
): { value: Tensor; grads: Tensor[] } {
  tf.util.assert(xs.length > 0, () => "gradients() received an empty list of xs.");
  if (dy != null && dy.dtype !== "float32") throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = this.scopedRun(
    () => this.startTape(),
    () => this.endTape(),
    () => this.tidy("forward", f),
  );
  tf.util.assert(y instanceof tf.Tensor, () => "The result y returned by f() must be a tensor.");
  const fullTape = this.state.activeTape!;
  const tape = filterTape(fullTape, xs, y);
  if (!allowNoGradients && tape.length === 0 && xs.length > 0)
    throw new Error(
      "Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.",
    );
  // As tfjs-core: saved tensors belong to an outer tape when this is a higher-order gradient.
  const outermost = this.state.gradientDepth === 0;
  return this.tidy("backward", () => {
    const gradients = new GradientMap();
    if (outermost) {
      const onPath = new Set(tape.map((node) => node.id));
      for (const node of fullTape) if (!onPath.has(node.id)) disposeSaved(node, gradients);
    }
    const seed = dy ?? tf.ones(y.shape);
    gradients.set(y.id, seed);
    const keepIds = new Set(xs.map((x) => x.id));
    // The caller's dy is theirs to dispose.
    const keep = new Set<Tensor>(dy ? [dy] : []);
    backpropagate(this, tape, gradients, keep, keepIds, outermost);
    const grads = xs.map((x) => gradients.get(x.id)!);
    if (outermost) {
      for (const node of fullTape) disposeSaved(node, gradients);
      this.state.activeTape = null;
    }
    return { value: y, grads };
  });
}

/** `Engine.getTensorsForGradient` with shape-only stand-ins for SHAPE_ONLY_SAVES (see header). */
function leanTensorsForGradient(
  this: EngineInternals,
  kernelName: string,
  inputs: NamedTensorMap,
  outputs: Tensor[],
): Tensor[] {
  const tensors = originals!.getTensorsForGradient.call(this, kernelName, inputs, outputs);
  const row = SHAPE_ONLY_SAVES.find((r) => r.kernelName === kernelName);
  if (!row || tf.getGradient(kernelName) !== row.gradConfig()) return tensors;
  return tensors.map((t) => shapeOnly(t) as unknown as Tensor);
}

/** `Engine.saveTensorsForBackwardMode`: stand-ins are kept as they are, real tensors as tfjs-core keeps them. */
function leanSaveTensors(this: EngineInternals, tensors: Tensor[]): Tensor[] {
  return tensors.map((t) => (isShapeOnly(t) ? t : this.keep(this.clone(t))));
}

const engine = () => tf.engine() as unknown as EngineInternals;
type Patched = Pick<EngineInternals, "gradients" | "getTensorsForGradient" | "saveTensorsForBackwardMode">;
let originals: Patched | undefined;

/**
 * Installs the lean backward pass on the engine (idempotent): `leanGradients` for
 * `gradients`, and shape-only saving. Instance methods of tfjs-core's one Engine object
 * are replaced; nothing else of tfjs changes.
 */
export function installLeanBackprop(): void {
  const e = engine();
  if (e.gradients === leanGradients) return;
  originals = {
    gradients: e.gradients,
    getTensorsForGradient: e.getTensorsForGradient,
    saveTensorsForBackwardMode: e.saveTensorsForBackwardMode,
  };
  tfjsReshapeGradient = tf.getGradient(tf.Reshape);
  e.gradients = leanGradients;
  e.getTensorsForGradient = leanTensorsForGradient;
  e.saveTensorsForBackwardMode = leanSaveTensors;
}

/** Puts tfjs-core's own methods back (for tests and benchmarks comparing the two). */
export function restoreOriginalBackprop(): void {
  const e = engine();
  if (e.gradients !== leanGradients || !originals) return;
  const prototype = Object.getPrototypeOf(e) as Patched;
  for (const key of Object.keys(originals) as (keyof Patched)[]) {
    // The originals are Engine.prototype's methods: drop the instance's shadowing copies.
    if (prototype[key] === originals[key]) delete (e as Partial<Patched>)[key];
    else Object.assign(e, { [key]: originals[key] });
  }
}

export function isLeanBackpropInstalled(): boolean {
  return engine().gradients === leanGradients;
}
