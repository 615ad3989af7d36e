import * as tf from "@tensorflow/tfjs";
import { RuntimeUserError } from "./errors.ts";

/**
 * Optimisers and learning-rate schedules by name: one table each, so the reference
 * recipes are a command line away (`--optimizer rmsprop --lr 0.016 --lr-schedule
 * exponential:0.97/2.4`) and adding one is one entry.
 */

/** An optimiser's state entry (tfjs-core's NamedTensor, which the tfjs package does not re-export). */
export type NamedTensor = { name: string; tensor: tf.Tensor };

export interface OptimizerDef {
  /** What it is and where its settings come from, for --help. */
  readonly description: string;
  /** The reference recipe's learning rate and L2 weight decay, used when the command line gives none. */
  readonly defaults: { readonly learningRate: number; readonly weightDecay: number };
  /** A fresh optimiser for the trainable variables (in this order; needed for state that starts non-zero). */
  readonly create: (learningRate: number, variables: readonly tf.Variable[]) => Promise<tf.Optimizer>;
  /** Restores a checkpointed state (getWeights's), so the next step is the one the uninterrupted run takes. Default setWeights. */
  readonly restore?: (optimizer: tf.Optimizer, state: NamedTensor[]) => Promise<void>;
}

export const OPTIMIZERS = {
  // Kingma & Ba 2015 with Keras's defaults (β1 0.9, β2 0.999, ε 1e-7, which is tfjs's
  // float32 backend epsilon too); no weight decay.
  adam: {
    description: "Adam (β1 0.9, β2 0.999, ε 1e-7, as Keras)",
    defaults: { learningRate: 1e-3, weightDecay: 0 },
    create: async (lr) => tf.train.adam(lr, 0.9, 0.999, 1e-7),
    // tfjs's Adam keeps β^t as float32 scalars multiplied by β at every step, and setWeights
    // recomputes them as pow(β, t + 1), which can differ in the last bit; repeat the
    // multiplications instead, so a resumed run continues bit for bit.
    restore: async (optimizer, state) => {
      await optimizer.setWeights(state);
      const adam = optimizer as unknown as {
        iterations: number;
        beta1: number;
        beta2: number;
        accBeta1: tf.Variable;
        accBeta2: tf.Variable;
      };
      for (const [acc, beta] of [
        [adam.accBeta1, adam.beta1],
        [adam.accBeta2, adam.beta2],
      ] as const) {
        tf.tidy(() => {
          let value: tf.Tensor = tf.scalar(beta);
          for (let t = 0; t < adam.iterations; t++) value = tf.mul(value, beta);
          acc.assign(value as tf.Scalar);
        });
      }
    },
  },
  // torchvision's classification reference recipe (references/classification/train.py
  // defaults: --lr 0.1 --momentum 0.9 --wd 1e-4 at batch 256). tfjs's momentum update
  // (acc = m·acc + g; w −= lr·acc) is torch's SGD, not Keras's (v = m·v − lr·g).
  sgd: {
    description: "SGD with momentum 0.9 (torchvision's reference recipe: lr 0.1, weight decay 1e-4)",
    defaults: { learningRate: 0.1, weightDecay: 1e-4 },
    create: async (lr) => tf.train.momentum(lr, 0.9),
  },
  // The paper's recipe (Tan & Le 2019, section 5.2): "RMSProp optimizer with decay 0.9
  // and momentum 0.9 ... weight decay 1e-5; initial learning rate 0.256 that decays by
  // 0.97 every 2.4 epochs" (for batch 4096; the TPU code scales 0.016 per 256 images).
  // The TPU code's utils.build_optimizer: tf.train.RMSPropOptimizer(lr, decay=0.9,
  // momentum=0.9, epsilon=0.001). TF1's RMSProp, like tfjs's, divides by √(ms + ε), but
  // starts its mean square at ones (rmsprop.py, _create_slots: init_ops.ones_initializer),
  // tfjs at zeros, which would make the first steps ~√10 too large; so the state is set.
  rmsprop: {
    description: "RMSProp, decay 0.9, momentum 0.9, ε 1e-3, mean square starting at 1 (the paper's TF TPU recipe)",
    defaults: { learningRate: 0.016, weightDecay: 1e-5 },
    create: async (lr, variables) => {
      const optimizer = tf.train.rmsprop(lr, 0.9, 0.9, 1e-3);
      const state = [
        { name: "iter", tensor: tf.scalar(0, "int32") },
        ...variables.map((v) => ({ name: `${v.name}/rms`, tensor: tf.ones(v.shape) })),
        ...variables.map((v) => ({ name: `${v.name}/momentum`, tensor: tf.zeros(v.shape) })),
      ];
      await optimizer.setWeights(state);
      tf.dispose(state.map((s) => s.tensor));
      return optimizer;
    },
  },
} as const satisfies Record<string, OptimizerDef>;

export type OptimizerName = keyof typeof OPTIMIZERS;

export async function restoreOptimizer(name: OptimizerName, optimizer: tf.Optimizer, state: NamedTensor[]) {
  const def: OptimizerDef = OPTIMIZERS[name];
  await (def.restore ? def.restore(optimizer, state) : optimizer.setWeights(state));
}

export const DEFAULT_OPTIMIZER: OptimizerName = "adam";

export function optimizerNamed(name: string): OptimizerName {
  if (!(name in OPTIMIZERS))
    throw new RuntimeUserError(`unknown optimizer \`${name}\`; one of ${Object.keys(OPTIMIZERS).join(", ")}`);
  return name as OptimizerName;
}

/**
 * Sets an optimiser's learning rate for the next step. tfjs's SGD and momentum
 * optimisers keep it as a scalar tensor (setLearningRate), Adam and RMSProp as a plain
 * field read at every applyGradients.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (o.setLearningRate) o.setLearningRate(learningRate);
  else o.learningRate = learningRate;
}

// ---------------------------------------------------------------------------------------
// Learning-rate schedules

/** Where in training a step is: the learning rate may depend on it. */
export interface SchedulePoint {
  /** Steps done before this one (0-based). */
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
}

export interface ScheduleDef {
  readonly syntax: string;
  readonly description: string;
  /** Parses the text after `name:`; returns the multiplier of the base learning rate at a point. */
  readonly parse: (args: string | undefined) => (point: SchedulePoint) => number;
}

function noArguments(name: string, args: string | undefined): void {
  if (args !== undefined) throw new RuntimeUserError(`--lr-schedule ${name} takes no arguments, not \`:${args}\``);
}

export const SCHEDULES = {
  constant: {
    syntax: "constant",
    description: "the same learning rate throughout",
    parse: (args) => {
      noArguments("constant", args);
      return () => 1;
    },
  },
  // TF TPU efficientnet utils.build_learning_rate, lr_decay_type 'exponential':
  // tf.train.exponential_decay(lr, step, steps_per_epoch · EPOCHS, RATE, staircase=True).
  exponential: {
    syntax: "exponential:RATE/EPOCHS",
    description: "× RATE every EPOCHS epochs, in steps (the paper's exponential:0.97/2.4)",
    parse: (args) => {
      const match = /^([0-9.]+)\/([0-9.]+)$/.exec(args ?? "");
      const rate = Number(match?.[1]);
      const epochs = Number(match?.[2]);
      if (!match || !(rate > 0 && rate <= 1) || !(epochs > 0))
        throw new RuntimeUserError(
          `--lr-schedule exponential needs RATE/EPOCHS with 0 < RATE ≤ 1 and EPOCHS > 0, e.g. exponential:0.97/2.4, not \`exponential${args === undefined ? "" : `:${args}`}\``,
        );
      return (p) => rate ** Math.floor(p.step / (p.stepsPerEpoch * epochs));
    },
  },
  // The same file's 'cosine': 0.5 · lr · (1 + cos(π · step / total_steps)).
  cosine: {
    syntax: "cosine",
    description: "half a cosine from the learning rate to 0 over the run",
    parse: (args) => {
      noArguments("cosine", args);
      return (p) => 0.5 * (1 + Math.cos((Math.PI * p.step) / p.totalSteps));
    },
  },
} as const satisfies Record<string, ScheduleDef>;

export type ScheduleName = keyof typeof SCHEDULES;

/** `exponential:0.97/2.4` → the multiplier function; unknown names and bad arguments are user errors. */
export function parseSchedule(text: string): (point: SchedulePoint) => number {
  const colon = text.indexOf(":");
  const name = colon < 0 ? text : text.slice(0, colon);
  const args = colon < 0 ? undefined : text.slice(colon + 1);
  if (!(name in SCHEDULES))
    throw new RuntimeUserError(
      `unknown learning-rate schedule \`${name}\`; one of ${Object.values(SCHEDULES)
        .map((s) => s.syntax)
        .join(", ")}`,
    );
  return SCHEDULES[name as ScheduleName].parse(args);
}

/**
 * Linear warm-up over the first `warmupSteps` steps (the TPU code's warmup_epochs:
 * lr · step / warmup_steps), then the schedule.
 */
export function learningRateAt(
  base: number,
  schedule: (point: SchedulePoint) => number,
  warmupSteps: number,
  point: SchedulePoint,
): number {
  if (point.step < warmupSteps) return (base * point.step) / warmupSteps;
  return base * schedule(point);
}
