import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { importVariantModule } from "../../codegen/import-module.ts";
import { buildVariant } from "../../compile.ts";
import { hypotheticalVariant } from "../../report/hypothetical.ts";
import type { Candidate } from "../../report/search.ts";
import type { TrainedCandidate } from "../../report/search-document.ts";
import { loadImageFolder, shapesDataset, splitDataset, type ImageDataset } from "../../runtime/data.ts";
import { RuntimeUserError } from "../../runtime/errors.ts";
import { evaluateModel } from "../../runtime/evaluate.ts";
import { trainModel } from "../../runtime/train.ts";
import type { Spec } from "../../semantics/spec.ts";
import type { Invocation } from "../command.ts";
import { duration } from "../command.ts";
import { parseBackend, useBackend } from "../model-command.ts";

/**
 * `effnet search --train DATA`: the paper's step 1 measures accuracy, not only cost, so the
 * best-ranked candidates are trained briefly (a proxy: a few steps at a small resolution, on
 * a data folder or the synthetic shapes) and their held-out accuracy is recorded. Loaded
 * only with --train, so a cost-only search never loads tfjs.
 *
 * Each finished candidate is appended to the results file as one JSON line at once, keyed by
 * everything that decides its outcome (the coefficients and the proxy settings): a search
 * that is interrupted and run again skips the candidates already in the file.
 */
export interface ProxySettings {
  /** `synthetic` or a data folder (one sub-folder of images per class). */
  readonly data: string;
  readonly steps: number;
  readonly batchSize: number;
  /** The baseline's proxy resolution; a candidate trains at it × its resolution coefficient. */
  readonly resolution: number;
  /** Synthetic images in all (train and held-out), when data is `synthetic`. */
  readonly images: number;
  readonly validation: number;
  readonly seed: number;
  /** A --backend choice, checked when training starts (parseBackend). */
  readonly backend: string;
}

/** A candidate's proxy outcome, as the results file and `search --json` hold it. */
export type ProxyResult = TrainedCandidate;

/** What decides a candidate's proxy outcome: equal keys, equal results (the runs are seeded). */
export function proxyKey(spec: Spec, c: Pick<Candidate, "alpha" | "beta" | "gamma">, s: ProxySettings): string {
  const { backend: _, ...settings } = s;
  return JSON.stringify({ network: spec.name, alpha: c.alpha, beta: c.beta, gamma: c.gamma, ...settings });
}

/** The results file's finished candidates, by key; a torn last line (a killed run) is ignored. */
export function readResults(path: string): Map<string, ProxyResult> {
  const done = new Map<string, ProxyResult>();
  if (!existsSync(path)) return done;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    try {
      const r = JSON.parse(line) as ProxyResult;
      if (typeof r.key === "string" && typeof r.accuracy === "number") done.set(r.key, { ...r, trained: false });
    } catch {
      // an empty or half-written line
    }
  }
  return done;
}

function proxyData(s: ProxySettings, resolution: number): ImageDataset {
  return s.data === "synthetic"
    ? shapesDataset({ count: s.images, resolution, seed: s.seed })
    : loadImageFolder(s.data, { resolution });
}

export async function trainCandidates(
  inv: Invocation,
  spec: Spec,
  candidates: readonly Candidate[],
  settings: ProxySettings,
  resultsPath: string,
): Promise<ProxyResult[]> {
  await useBackend(parseBackend(settings.backend));
  const done = readResults(resultsPath);
  const results: ProxyResult[] = [];
  const started = Date.now();
  let trained = 0;
  const toTrain = candidates.filter((c) => !done.has(proxyKey(spec, c, settings))).length;
  if (toTrain < candidates.length)
    inv.io.err(`search: ${candidates.length - toTrain} of ${candidates.length} candidates already in ${resultsPath}\n`);
  for (const c of candidates) {
    const key = proxyKey(spec, c, settings);
    const previous = done.get(key);
    if (previous) {
      results.push({ ...previous, rank: c.rank });
      continue;
    }
    const resolution = Math.max(8, Math.round((settings.resolution * c.coefficients.resolution) / spec.input.height));
    const { compiled, diagnostics } = buildVariant(
      spec,
      hypotheticalVariant(spec, `Candidate${c.rank}`, c.coefficients),
    );
    if (!compiled) throw new RuntimeUserError(`candidate ${c.rank} cannot be built: ${diagnostics[0]?.message}`);
    const module = await importVariantModule(compiled, inv.positionals[0]);
    const data = proxyData(settings, resolution);
    const { train, validation } = splitDataset(data, settings.validation, settings.seed);
    const model = module.buildModel({ classes: data.classNames.length, resolution, seed: settings.seed });
    const t0 = Date.now();
    try {
      const epochs = Math.ceil(settings.steps / Math.ceil(train.count / settings.batchSize));
      await trainModel(model, train, {
        epochs,
        batchSize: settings.batchSize,
        seed: settings.seed,
        maxSteps: settings.steps,
        preciseBatchNormImages: 0,
      });
      const evaluation = evaluateModel(model, validation);
      const result: ProxyResult = {
        key,
        rank: c.rank,
        alpha: c.alpha,
        beta: c.beta,
        gamma: c.gamma,
        params: c.cost.params.total,
        macs: c.cost.macs,
        resolution,
        steps: settings.steps,
        loss: evaluation.loss,
        accuracy: evaluation.accuracy,
        seconds: (Date.now() - t0) / 1000,
        trained: true,
      };
      // One whole line per candidate, written as soon as it is known: an interrupted search loses at most the one in flight.
      const { trained: _, ...line } = result;
      appendFileSync(resultsPath, JSON.stringify(line) + "\n");
      results.push(result);
    } finally {
      model.dispose();
    }
    trained++;
    const elapsed = (Date.now() - started) / 1000;
    inv.io.err(
      `search: trained ${trained} of ${toTrain} (α ${c.alpha}, β ${c.beta}, γ ${c.gamma}: ${(results.at(-1)!.accuracy * 100).toFixed(1)}% held out), ${duration(elapsed)}, ETA ${duration((elapsed / trained) * (toTrain - trained))}\n`,
    );
  }
  return results;
}
