/**
 * Choosing the TensorFlow.js backend effnet trains and runs models on.
 *
 * Order for 'auto', fastest first:
 *  1. 'tensorflow' from @tensorflow/tfjs-node-gpu (libtensorflow with CUDA),
 *  2. 'tensorflow' from @tensorflow/tfjs-node (libtensorflow on the CPU),
 *  3. 'wasm' from @tensorflow/tfjs-backend-wasm (XNNPACK; a dependency),
 *  4. 'cpu', pure JavaScript, always present.
 * The two native packages are optional and NOT dependencies of effnet: they
 * download a ~100 MB libtensorflow at install time. They are located with
 * `require.resolve` and loaded with a dynamic `import()` of a computed
 * specifier, so neither TypeScript nor a bundler ever requires them, and
 * their absence is a normal outcome with a reason, not a crash.
 *
 * Whichever backend is chosen gets effnet's training kernels
 * (./kernels/index.ts), e.g. the conv gradients wasm lacks.
 */
import { createRequire } from "node:module";
import { totalmem } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { registerTrainingKernels } from "./kernels/index.ts";
import { RuntimeUserError } from "./errors.ts";

export type BackendChoice = "auto" | "wasm" | "cpu" | "tensorflow";

export interface SelectedBackend {
  /** The tfjs backend name now active: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** One line for the user on why this backend was chosen. */
  reason: string;
}

/**
 * A backend that was asked for explicitly cannot be used. The message is
 * meant to be shown as is (it says how to fix it), so the stack is reduced
 * to that message: a CLI may print `error.stack ?? error.message` safely.
 */
export class BackendUnavailableError extends RuntimeUserError {
  readonly choice: BackendChoice;

  constructor(choice: BackendChoice, message: string) {
    super(message);
    this.name = "BackendUnavailableError";
    this.choice = choice;
    this.stack = `${this.name}: ${message}`;
  }
}

const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;
type NativePackage = (typeof NATIVE_PACKAGES)[number];

const requireFromHere = createRequire(import.meta.url);

/** The first line of an error's message: native load errors can be pages long. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

/** Outcome of trying to activate one candidate backend. */
type Attempt = { ok: true; detail: string } | { ok: false; why: string };

function isInstalled(packageName: string): boolean {
  try {
    requireFromHere.resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a tfjs-node package, which registers the 'tensorflow' backend, and
 * activates it.
 *
 * Caveat: tfjs-node imports @tensorflow/tfjs itself. If its version differs
 * from ours (4.22.0), npm gives it a private copy of @tensorflow/tfjs-core,
 * and it registers 'tensorflow' with *that* copy's engine: our `tf` never
 * sees the backend, and tensors from the two copies would not mix anyway.
 * We detect that case and report it instead of silently falling back.
 */
async function tryNativeBackend(packageName: NativePackage): Promise<Attempt> {
  if (!isInstalled(packageName)) return { ok: false, why: `${packageName} is not installed` };
  try {
    const specifier: string = packageName; // computed: never resolved at type-check or bundle time
    await import(specifier);
  } catch (error) {
    return { ok: false, why: `${packageName} is installed but failed to load (${firstLine(error)})` };
  }
  if (tf.findBackendFactory("tensorflow") == null) {
    return {
      ok: false,
      why:
        `${packageName} loaded, but its 'tensorflow' backend went to a different copy of ` +
        `@tensorflow/tfjs-core; install the version matching @tensorflow/tfjs ${tf.version.tfjs}`,
    };
  }
  if (!(await tf.setBackend("tensorflow"))) {
    return { ok: false, why: `${packageName} loaded, but the 'tensorflow' backend failed to initialize` };
  }
  await tf.ready();
  return { ok: true, detail: `${packageName} (native TensorFlow)` };
}

async function tryWasmBackend(): Promise<Attempt> {
  try {
    // Dynamic so that choosing 'cpu' or 'tensorflow' does not load the wasm
    // module (importing it also makes wasm the default backend).
    await import("@tensorflow/tfjs-backend-wasm");
  } catch (error) {
    return { ok: false, why: `@tensorflow/tfjs-backend-wasm failed to load (${firstLine(error)})` };
  }
  // setBackend resolves false (after logging) when the wasm binary cannot be
  // fetched or compiled.
  if (!(await tf.setBackend("wasm"))) return { ok: false, why: "the wasm backend failed to initialize" };
  await tf.ready();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  return { ok: true, detail: `@tensorflow/tfjs-backend-wasm (XNNPACK${simd ? ", SIMD" : ", no SIMD"})` };
}

async function tryCpuBackend(): Promise<Attempt> {
  if (!(await tf.setBackend("cpu"))) return { ok: false, why: "the cpu backend failed to initialize" };
  await tf.ready();
  return { ok: true, detail: "the pure-JavaScript cpu backend (slowest)" };
}

function installHint(): string {
  return (
    `Install it with \`npm install @tensorflow/tfjs-node@${tf.version.tfjs}\` ` +
    `(or @tensorflow/tfjs-node-gpu@${tf.version.tfjs} for CUDA GPUs; the version must match ` +
    `@tensorflow/tfjs ${tf.version.tfjs}), or choose the 'wasm' or 'cpu' backend.`
  );
}

function selected(name: string, reason: string): SelectedBackend {
  const kernels = registerTrainingKernels(name);
  const kernelNote = kernels.length > 0 ? `; effnet training kernels: ${kernels.join(", ")}` : "";
  return { name, reason: reason + kernelNote };
}

/**
 * Activates a backend (and its training kernels) and says why it was chosen.
 * 'auto' never throws for a missing backend: it falls back down the list in
 * the header and the reason lists what was skipped. An explicit choice that
 * cannot be honoured throws `BackendUnavailableError`.
 */
export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  switch (choice) {
    case "tensorflow": {
      const skipped: string[] = [];
      for (const packageName of NATIVE_PACKAGES) {
        const attempt = await tryNativeBackend(packageName);
        if (attempt.ok) return selected("tensorflow", `requested 'tensorflow': using ${attempt.detail}`);
        skipped.push(attempt.why);
      }
      throw new BackendUnavailableError(
        "tensorflow",
        `The 'tensorflow' backend needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, ` +
          `which could not be used: ${skipped.join("; ")}. ${installHint()}`,
      );
    }
    case "wasm": {
      const attempt = await tryWasmBackend();
      if (!attempt.ok) {
        throw new BackendUnavailableError(
          "wasm",
          `The 'wasm' backend is unavailable: ${attempt.why}. Choose 'cpu' instead.`,
        );
      }
      return selected("wasm", `requested 'wasm': using ${attempt.detail}`);
    }
    case "cpu": {
      const attempt = await tryCpuBackend();
      if (!attempt.ok) throw new BackendUnavailableError("cpu", `The 'cpu' backend is unavailable: ${attempt.why}.`);
      return selected("cpu", `requested 'cpu': using ${attempt.detail}`);
    }
    case "auto": {
      const skipped: string[] = [];
      for (const packageName of NATIVE_PACKAGES) {
        const attempt = await tryNativeBackend(packageName);
        if (attempt.ok) return selected("tensorflow", `auto: using ${attempt.detail}`);
        skipped.push(attempt.why);
      }
      const candidates: [string, () => Promise<Attempt>][] = [
        ["wasm", tryWasmBackend],
        ["cpu", tryCpuBackend],
      ];
      for (const [name, attemptBackend] of candidates) {
        const attempt = await attemptBackend();
        if (attempt.ok) return selected(name, `auto: ${skipped.join("; ")}; using ${attempt.detail}`);
        skipped.push(attempt.why);
      }
      throw new BackendUnavailableError("auto", `No tfjs backend could be initialized: ${skipped.join("; ")}.`);
    }
    default: {
      const unknown: never = choice;
      throw new BackendUnavailableError(
        unknown,
        `Unknown backend '${String(unknown)}'; choose one of auto, wasm, cpu, tensorflow.`,
      );
    }
  }
}

/** The largest heap tfjs-backend-wasm 4.22 can grow to: it is built with MAXIMUM_MEMORY=4GB (wasm32). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * Share of the machine's memory that tensors of the cpu and tensorflow backends may take:
 * they live outside any fixed heap, and the rest is left to the OS, Node and the data set.
 */
const SHARE_OF_MACHINE_MEMORY = 0.75;

/** How much memory a training run on `backendName` may use: what `effnet train` checks its estimate against. */
export function trainingMemoryLimit(backendName: string): { bytes: number; what: string; wasmHeap: boolean } {
  if (backendName === "wasm")
    return { bytes: WASM_HEAP_LIMIT_BYTES, what: "the wasm backend's 4 GiB heap", wasmHeap: true };
  const machine = totalmem();
  return {
    bytes: SHARE_OF_MACHINE_MEMORY * machine,
    what: `three quarters of this machine's ${(machine / 2 ** 30).toFixed(1)} GiB`,
    wasmHeap: false,
  };
}
