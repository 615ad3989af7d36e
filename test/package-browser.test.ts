import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { generateModules } from "../src/codegen/generate.ts";
import { compile } from "../src/compile.ts";
import { batchTensors, shapesDataset } from "../src/runtime/data.ts";
import { saveModel } from "../src/runtime/io.ts";
import { recomputeBatchNormStatistics } from "../src/runtime/train.ts";
import type { GeneratedModelModule } from "../src/runtime/module.ts";
import { expectClose, useBackend } from "./helpers/numeric.ts";
import { bundlePage, runPage } from "./helpers/page.ts";
import { findChromium } from "./report/browser.ts";

/**
 * The README's browser recipe, done: a `--emit js` module bundled with esbuild into a page,
 * served over http with the wasm backend's .wasm files (setWasmPaths), weights saved by
 * Node (model.json + weights.bin) loaded by the page with tf.loadLayersModel, and the
 * page's predictions for the same input equal to Node's to 1e-4, both from the module's
 * buildModel with the loaded weights and from the loaded model alone. Headless Chromium
 * (Debian's package); skipped, saying so, where none is installed.
 */
const chromium = findChromium();
if (!chromium) console.warn("skipped: the browser test needs Chromium (apt-get install chromium, or set CHROMIUM)");
const ROOT = resolve(new URL("..", import.meta.url).pathname);
// The module imports "@tensorflow/tfjs": it must lie where node_modules resolves it, for Node and for esbuild.
const work = join(ROOT, "node_modules/.cache/effnet", `browser-${process.pid}`);
const site = mkdtempSync(join(tmpdir(), "effnet-site-"));
const RESOLUTION = 32;
const CLASSES = 3;
const BATCH = 2;
afterAll(() => {
  rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  rmSync(site, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

const PAGE = `
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { buildModel } from "./models/efficientnet/b0.js";

const report = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
try {
  setWasmPaths("/wasm/");
  await tf.setBackend("wasm");
  const input = await (await fetch("/input.json")).json();
  const x = tf.tensor4d(input, [${BATCH}, ${RESOLUTION}, ${RESOLUTION}, 3]);
  const trained = await tf.loadLayersModel("/model/model.json");
  const model = buildModel({ classes: ${CLASSES}, resolution: ${RESOLUTION} });
  model.setWeights(trained.getWeights());
  report({
    backend: tf.getBackend(),
    built: Array.from(await model.predict(x).data()),
    loaded: Array.from(await trained.predict(x).data()),
  });
} catch (e) {
  report({ error: String(e && e.stack || e) });
}
`;

describe.skipIf(!chromium)("a generated model in headless Chromium", () => {
  it("bundled with esbuild, wasm backend, weights over http: the same predictions as Node's", async () => {
    // The module, as `effnet compile --emit js` writes it.
    const spec = "specs/efficientnet.effnet";
    const compilation = compile({ path: spec, text: readFileSync(join(ROOT, spec), "utf8") }, { variants: ["B0"] });
    for (const m of generateModules(compilation, { outDir: join(work, "models"), emit: "js" }))
      (mkdirSync(join(m.path, ".."), { recursive: true }), writeFileSync(m.path, m.content));

    // Node: build, save the (freshly initialised) weights, predict.
    await useBackend("wasm");
    const module = (await import(
      /* @vite-ignore */ `file://${join(work, "models/efficientnet/b0.js")}`
    )) as GeneratedModelModule;
    const model = module.buildModel({ classes: CLASSES, resolution: RESOLUTION });
    // Fresh weights with batch-norm statistics as at initialisation (mean 0, variance 1)
    // let activations fade to ~1e-18 through B0 at 32 px, and every prediction is 1/3;
    // statistics measured on data (as `effnet train` does after training) keep them alive.
    const data = shapesDataset({ count: 16, resolution: RESOLUTION, classes: CLASSES });
    recomputeBatchNormStatistics(model, data, [...Array(data.count).keys()], 8);
    await saveModel(model, join(site, "model"));
    const x = batchTensors(data, [...Array(BATCH).keys()]).xs;
    writeFileSync(join(site, "input.json"), JSON.stringify(Array.from(x.dataSync())));
    const expected = { shape: [BATCH, CLASSES], values: (model.predict(x) as tf.Tensor).dataSync() as Float32Array };
    // Far from uniform, so that agreeing to 1e-4 says something.
    expect(Math.max(...expected.values) - Math.min(...expected.values)).toBeGreaterThan(1e-3);

    // The page: bundled, with the .wasm files beside it.
    writeFileSync(join(work, "page.js"), PAGE);
    await bundlePage(join(work, "page.js"), site);

    const page = JSON.parse(await runPage(chromium!, site)) as {
      error?: string;
      backend: string;
      built: number[];
      loaded: number[];
    };
    expect(page.error).toBeUndefined();
    expect(page.backend).toBe("wasm");
    expectClose({ shape: [BATCH, CLASSES], values: Float32Array.from(page.built) }, expected, "buildModel in Chromium");
    expectClose(
      { shape: [BATCH, CLASSES], values: Float32Array.from(page.loaded) },
      expected,
      "loadLayersModel in Chromium",
    );
  });
});
