/**
 * Backend selection. On this project's machines neither @tensorflow/tfjs-node
 * nor @tensorflow/tfjs-node-gpu is installed (they are optional, not
 * dependencies), so 'auto' must fall back to wasm and say why, and an
 * explicit 'tensorflow' must fail with a clean, typed, actionable error.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { BackendUnavailableError, selectBackend } from "../../src/runtime/backend.ts";
import { trainingKernelsFor } from "../../src/runtime/kernels/index.ts";

function expectTrainingKernelsRegistered(backendName: string): void {
  for (const row of trainingKernelsFor(backendName)) {
    expect(tf.getKernel(row.kernelName, backendName)?.kernelFunc, `${row.kernelName} on ${backendName}`).toBe(
      row.kernelFunc,
    );
  }
}

describe("selectBackend", () => {
  it("'auto' falls back to wasm when tfjs-node is absent, and says why", async () => {
    const selected = await selectBackend("auto");
    expect(selected.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(selected.reason).toContain("@tensorflow/tfjs-node-gpu is not installed");
    expect(selected.reason).toContain("@tensorflow/tfjs-node is not installed");
    expect(selected.reason).toContain("@tensorflow/tfjs-backend-wasm");
    expectTrainingKernelsRegistered("wasm");
  });

  it("'tensorflow' without tfjs-node rejects with a BackendUnavailableError that says how to install it", async () => {
    const error = await selectBackend("tensorflow").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const unavailable = error as BackendUnavailableError;
    expect(unavailable.name).toBe("BackendUnavailableError");
    expect(unavailable.choice).toBe("tensorflow");
    expect(unavailable.message).toContain(`npm install @tensorflow/tfjs-node@${tf.version.tfjs}`);
    expect(unavailable.message).toContain("@tensorflow/tfjs-node is not installed");
    // User-facing: no stack frames, and printing the stack prints just the message.
    expect(unavailable.stack).toBe(`BackendUnavailableError: ${unavailable.message}`);
  });

  it("'cpu' and 'wasm' activate that backend with its training kernels", async () => {
    const cpu = await selectBackend("cpu");
    expect(cpu).toMatchObject({ name: "cpu" });
    expect(tf.getBackend()).toBe("cpu");
    expect(cpu.reason).toContain("requested 'cpu'");
    expectTrainingKernelsRegistered("cpu");

    const wasm = await selectBackend("wasm");
    expect(wasm).toMatchObject({ name: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expectTrainingKernelsRegistered("wasm");
  });

  it("rejects an unknown choice cleanly", async () => {
    await expect(selectBackend("webgpu" as never)).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
