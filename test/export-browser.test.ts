import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { CUSTOM_LAYERS_FILE, customLayersModule } from "../src/cli/commands/export.ts";
import { compile } from "../src/compile.ts";
import { seededPixels } from "../src/weights/transfer.ts";
import { exportFiles, exportForInference, loadExported, modelArtifacts } from "../src/runtime/export/inference.ts";
import { importVariantModule } from "../src/codegen/import-module.ts";
import { bundlePage, runPage } from "./helpers/page.ts";
import { useBackend } from "./helpers/numeric.ts";
import { seedInferenceWeights } from "./helpers/seeded-weights.ts";
import { findChromium } from "./report/browser.ts";

/**
 * Issue 14: an exported model loads in the browser with plain tfjs. Two exports are served
 * over http: EfficientNet-B0 with float16 weights (quantized in the manifest, which tfjs's
 * loader dequantizes) and MobileNetV3-Large with its effnet-layers.js (hard swish and hard
 * sigmoid, the custom layers it ships). A page that bundles only @tensorflow/tfjs and that
 * file loads each with tf.loadLayersModel(url) on the wasm backend; its outputs equal
 * Node's for the same exported files to 1e-4 of max |output|. Skipped, saying so, where no
 * Chromium is installed.
 */
const chromium = findChromium();
if (!chromium) console.warn("skipped: the browser test needs Chromium (apt-get install chromium, or set CHROMIUM)");
const ROOT = resolve(new URL("..", import.meta.url).pathname);
// The page imports "@tensorflow/tfjs": esbuild resolves it from the worktree's node_modules.
const work = join(ROOT, "node_modules/.cache/effnet", `export-browser-${process.pid}`);
const site = mkdtempSync(join(tmpdir(), "effnet-export-site-"));
afterAll(() => {
  rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  rmSync(site, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

const MODELS = [
  { name: "b0", spec: "specs/efficientnet.effnet", variant: "B0", resolution: 64, weights: "float16" },
  { name: "v3", spec: "specs/mobilenetv3.effnet", variant: "Large", resolution: 32, weights: "float32" },
] as const;

const PAGE = `
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { registerEffnetLayers } from "./v3/${CUSTOM_LAYERS_FILE}";

const report = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
try {
  setWasmPaths("/wasm/");
  await tf.setBackend("wasm");
  registerEffnetLayers(tf);
  const outputs = {};
  for (const [name, resolution] of ${JSON.stringify(MODELS.map((m) => [m.name, m.resolution]))}) {
    const model = await tf.loadLayersModel("/" + name + "/model.json");
    const input = await (await fetch("/" + name + "/input.json")).json();
    outputs[name] = Array.from(await model.predict(tf.tensor4d(input, [1, resolution, resolution, 3])).data());
  }
  report({ backend: tf.getBackend(), outputs });
} catch (e) {
  report({ error: String((e && e.stack) || e) });
}
`;

describe.skipIf(!chromium)("an exported model in headless Chromium", () => {
  it("tf.loadLayersModel over http (float16 weights; custom layers from effnet-layers.js): Node's outputs to 1e-4", async () => {
    await useBackend("wasm");
    const expected: Record<string, Float32Array> = {};
    for (const m of MODELS) {
      const compilation = compile({ path: m.spec, text: readFileSync(m.spec, "utf8") }, { variants: [m.variant] });
      const module = await importVariantModule(compilation.variants[0], m.spec);
      const model = module.buildModel({ resolution: m.resolution });
      seedInferenceWeights(model, 1);
      const result = await exportForInference(await modelArtifacts(model), { weights: m.weights, samples: 1 });
      model.dispose();
      const extra = result.customLayers.length
        ? [{ name: CUSTOM_LAYERS_FILE, content: customLayersModule(result.customLayers) }]
        : [];
      for (const f of exportFiles(join(site, m.name), result, extra))
        (mkdirSync(join(f.path, ".."), { recursive: true }), writeFileSync(f.path, f.content));
      const pixels = seededPixels(7, 1, m.resolution);
      writeFileSync(join(site, m.name, "input.json"), JSON.stringify(Array.from(pixels)));
      const exported = await loadExported(result);
      const x = tf.tensor4d(pixels, [1, m.resolution, m.resolution, 3]);
      expected[m.name] = (exported.predict(x) as tf.Tensor).dataSync() as Float32Array;
      tf.dispose(x);
      exported.dispose();
    }
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, "page.js"), PAGE);
    // The page imports ./v3/effnet-layers.js relative to itself: the bundle is built beside the site's copy.
    mkdirSync(join(work, "v3"), { recursive: true });
    writeFileSync(join(work, "v3", CUSTOM_LAYERS_FILE), readFileSync(join(site, "v3", CUSTOM_LAYERS_FILE)));
    await bundlePage(join(work, "page.js"), site);

    const page = JSON.parse(await runPage(chromium!, site)) as {
      error?: string;
      backend: string;
      outputs: Record<string, number[]>;
    };
    expect(page.error).toBeUndefined();
    expect(page.backend).toBe("wasm");
    for (const m of MODELS) {
      const want = expected[m.name];
      const got = page.outputs[m.name];
      expect(got.length).toBe(want.length);
      const scale = Math.max(...want.map(Math.abs));
      // Outputs that differ across classes, so that agreeing to 1e-4 says something.
      expect(Math.max(...want) - Math.min(...want), m.name).toBeGreaterThan(0.1 * scale);
      const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
      expect(worst / scale, m.name).toBeLessThanOrEqual(1e-4);
    }
  });
});
