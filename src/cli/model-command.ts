import * as tf from "@tensorflow/tfjs";
import { importVariantModule } from "../codegen/import-module.ts";
import { displayPath } from "../codegen/generate.ts";
import type { CompiledVariant, CompileOptions } from "../compile.ts";
import { selectBackend, type BackendChoice, type SelectedBackend } from "../runtime/backend.ts";
import type { GeneratedModelModule } from "../runtime/module.ts";
import { checkChoice, compileFile, UsageError, type Invocation, type OptionDef } from "./command.ts";

/**
 * The plumbing of the commands that build, load or run a model (train, predict, eval, cam,
 * bench-model, export, weights, and search --train and solve's latency budget): the backend
 * option and one variant compiled to its generated module. Apart from src/cli/command.ts
 * because it loads tfjs, which `check` or `audit` never need.
 */
const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "wasm", "cpu", "tensorflow"];

export const BACKEND_OPTION: Record<string, OptionDef> = {
  backend: {
    type: "string",
    short: "b",
    value: "NAME",
    description:
      "auto (default: tfjs-node if installed, else wasm, else cpu), wasm, cpu or tensorflow (needs @tensorflow/tfjs-node)",
  },
};

/** A --backend value (auto when absent), checked: a usage error before any work. */
export const parseBackend = (value: string | undefined): BackendChoice =>
  checkChoice("backend", value ?? "auto", BACKEND_CHOICES);

/** The backend a command was asked for: checked when the options are read, activated by `use` when work starts. */
export interface BackendRequest {
  readonly choice: BackendChoice;
  readonly use: () => Promise<SelectedBackend>;
}

/** The --backend option of `inv`, checked now (a usage error before any work). */
export function backendOption(inv: Invocation): BackendRequest {
  const choice = parseBackend(inv.string("backend"));
  return { choice, use: () => useBackend(choice) };
}

/** Activates a backend; one the user asked for that cannot run is their error, not a crash. */
export async function useBackend(choice: BackendChoice): Promise<SelectedBackend> {
  // Production mode: no debug checks, and no "install tfjs-node" banner from the cpu backend
  // (tfjs-backend-cpu warns unless PROD or IS_TEST is set); the choice is reported instead.
  tf.enableProdMode();
  // BackendUnavailableError is a RuntimeUserError: the CLI prints its message cleanly.
  return selectBackend(choice);
}

export const SINGLE_VARIANT_OPTIONS: Record<string, OptionDef> = {
  variant: { type: "string", short: "v", multiple: true, value: "NAME", description: "the variant (required)" },
  "allow-huge": { type: "boolean", description: "build variants past the size limits" },
};

/**
 * Compiles `path` (default FILE, the first positional) for exactly one --variant and imports
 * its generated module. Diagnostics are printed; `undefined` means the spec has errors (exit
 * 1). `why` says, in the usage error for a missing --variant, why one is needed here.
 */
export async function compileOneVariant(
  inv: Invocation,
  options: { path?: string; convention?: CompileOptions["convention"]; why?: string } = {},
): Promise<{ compiled: CompiledVariant; module: GeneratedModelModule } | undefined> {
  const common = inv.compileOptions();
  if (common.variants.length !== 1)
    throw new UsageError(
      common.variants.length === 0
        ? `--variant NAME is required${options.why ? ` ${options.why}` : ""}`
        : "give one --variant",
    );
  const path = options.path ?? inv.positionals[0];
  const compileWith = options.convention ? { ...common, convention: options.convention } : common;
  const { compilation } = compileFile(path, compileWith, inv.io);
  if (!compilation?.ok || compilation.variants.length !== 1) return undefined;
  const compiled = compilation.variants[0];
  return { compiled, module: await importVariantModule(compiled, displayPath(path)) };
}
