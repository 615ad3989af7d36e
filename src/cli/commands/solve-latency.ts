import * as tf from "@tensorflow/tfjs";
import { importVariantModule } from "../../codegen/import-module.ts";
import { displayPath } from "../../codegen/generate.ts";
import { Costing, hypotheticalVariant } from "../../report/hypothetical.ts";
import {
  describeBudgets,
  largestFittingPhi,
  LOWEST_PHI,
  metricValue,
  variantLine,
  type BudgetLimit,
} from "../../report/solve.ts";
import { phiCoefficients } from "../../semantics/scaling.ts";
import type { Spec } from "../../semantics/spec.ts";
import { formatMs, timeForward } from "../../runtime/bench.ts";
import { fmt } from "../../vocabulary/rounding.ts";
import type { Invocation } from "../command.ts";
import { parseBackend, useBackend } from "../model-command.ts";

/**
 * `effnet solve --budget latency=50ms`: the largest φ whose network, built from the spec
 * and measured as `bench-model` measures it (forward at batch 1, median of --runs after a
 * warm-up, on --backend), stays within the latency, and within the cost budgets given
 * beside it. Latency is measured, so the search asks few points (largestFittingPhi: it
 * assumes latency grows with φ, as cost does) and the answer near the limit moves with the
 * machine's load. Loaded only with a latency budget, so cost-only `solve` never loads tfjs.
 */
export interface LatencySolution {
  readonly phi: number;
  readonly next: number;
  readonly latencyMs: number;
  readonly nextLatencyMs: number | undefined;
  readonly line: string;
  readonly backend: string;
}

export async function solveLatency(
  inv: Invocation,
  spec: Spec,
  limitMs: number,
  budgets: readonly BudgetLimit[],
  options: { readonly precision: number; readonly name: string; readonly runs: number; readonly backend: string },
): Promise<LatencySolution | undefined> {
  const backend = (await useBackend(parseBackend(options.backend))).name;
  const costing = new Costing(spec);
  const measured = new Map<number, number | undefined>();
  // undefined: refused by the compiler or over a cost budget, so never measured.
  const latency = async (phi: number): Promise<number | undefined> => {
    if (measured.has(phi)) return measured.get(phi);
    const coefficients = phiCoefficients(spec.scaling, spec.input.height, phi)!;
    const screened = costing.screen(coefficients);
    let ms: number | undefined;
    if (screened.ok && budgets.every((b) => metricValue(b.metric, screened.totals) <= b.limit)) {
      const { compiled } = costing.build(hypotheticalVariant(spec, `Phi${phi}`, coefficients, phi), {});
      if (compiled) {
        const module = await importVariantModule(compiled, displayPath(inv.positionals[0]));
        const model = module.buildModel();
        try {
          ms = (await timeForward(model, 1, { warmup: 1, runs: options.runs })).medianMs;
        } finally {
          model.dispose();
          tf.disposeVariables();
        }
        inv.io.err(`solve: φ = ${fmt(phi)}: ${formatMs(ms)} on ${backend}\n`);
      }
    }
    measured.set(phi, ms);
    return ms;
  };
  const found = await largestFittingPhi(async (phi) => {
    const ms = await latency(phi);
    return ms !== undefined && ms <= limitMs;
  }, options.precision);
  if (!found) {
    inv.io.err(
      `effnet solve: no φ down to ${LOWEST_PHI} runs within ${formatMs(limitMs)}${budgets.length ? ` and ${describeBudgets(budgets)}` : ""} on ${backend}\n`,
    );
    return undefined;
  }
  return {
    ...found,
    latencyMs: measured.get(found.phi)!,
    nextLatencyMs: measured.get(found.next),
    line: variantLine(options.name, found.phi),
    backend,
  };
}

export function renderLatencySolution(
  network: string,
  limitMs: number,
  budgets: readonly BudgetLimit[],
  precision: number,
  found: LatencySolution,
): string {
  return [
    `${network} within latency ≤ ${formatMs(limitMs)}${budgets.length ? ` and ${describeBudgets(budgets)}` : ""} on ${found.backend}, forward at batch 1: φ = ${fmt(found.phi)} (grid step ${fmt(precision)})`,
    `  measured: ${formatMs(found.latencyMs)}; φ = ${fmt(found.next)} ${found.nextLatencyMs === undefined ? "is refused or over a cost budget" : `measured ${formatMs(found.nextLatencyMs)}`}`,
    "  latency is measured, so near the limit the answer moves with the machine's load",
    "",
    "Paste into the spec's body:",
    `  ${found.line}`,
    "",
  ].join("\n");
}
