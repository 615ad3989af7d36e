import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { build } from "esbuild";
import { FLAGS } from "../report/browser.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".bin": "application/octet-stream",
};

/**
 * Serves the folder `site` over http on loopback, opens its index.html in headless
 * Chromium (the report tests' flags: the network blocked, loopback reachable) and
 * resolves with the first body the page POSTs to /result, within `timeoutMs`. Browsers
 * fetch wasm and weights over http, never from file://.
 */
export async function runPage(chromium: string, site: string, timeoutMs = 90_000): Promise<string> {
  let deliver: (body: string) => void;
  const result = new Promise<string>((r) => (deliver = r));
  const server = createServer((req, res) => {
    if (req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => (res.end(), deliver(body)));
      return;
    }
    try {
      const path = join(site, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
      const content = readFileSync(path.endsWith("/") ? join(path, "index.html") : path);
      res.writeHead(200, { "content-type": TYPES[extname(path) || ".html"] ?? "application/octet-stream" });
      res.end(content);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), "effnet-chromium-"));
  const flags = FLAGS.filter((f) => !f.startsWith("--proxy-bypass-list"));
  const browser = spawn(chromium, [...flags, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`], {
    stdio: "ignore",
  });
  const exited = once(browser, "exit");
  try {
    const timeout = new Promise<string>((_, reject) =>
      setTimeout(() => reject(new Error(`the page reported nothing within ${timeoutMs / 1000} s`)), timeoutMs),
    );
    return await Promise.race([result, timeout]);
  } finally {
    browser.kill();
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * A page in `site`: `entry` bundled with esbuild (tfjs and all) as page.js, the wasm
 * backend's .wasm files in /wasm/ (the page calls setWasmPaths("/wasm/")), and an
 * index.html that loads the bundle.
 */
export async function bundlePage(entry: string, site: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile: join(site, "page.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    logLevel: "error",
  });
  mkdirSync(join(site, "wasm"), { recursive: true });
  const wasmDir = resolve(
    new URL("../..", import.meta.url).pathname,
    "node_modules/@tensorflow/tfjs-backend-wasm/dist",
  );
  for (const f of readdirSync(wasmDir).filter((f) => f.endsWith(".wasm")))
    copyFileSync(join(wasmDir, f), join(site, "wasm", f));
  writeFileSync(
    join(site, "index.html"),
    `<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>`,
  );
}
