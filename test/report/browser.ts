import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Headless Chromium (Debian's `chromium` package) for the report tests and the
 * screenshot script: the HTML report and the SVG plots must open offline, without
 * errors, and draw. Nothing here runs when no browser is installed.
 */
const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

export function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of CANDIDATES) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

// --no-sandbox: containers and CI runners usually run as root, where the sandbox refuses to start.
// Network access is blocked outright, so a report that needed any external resource would show it.
export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--hide-scrollbars",
  "--no-first-run",
  "--disable-extensions",
  "--proxy-server=127.0.0.1:9",
  "--proxy-bypass-list=<-loopback>",
];

function run(chromium: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  const profile = mkdtempSync(join(tmpdir(), "effnet-chromium-"));
  try {
    const r = spawnSync(chromium, [...FLAGS, `--user-data-dir=${profile}`, ...args], {
      encoding: "utf8",
      timeout: 90_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: r.status };
  } finally {
    // Chromium's helper processes may still be writing to the profile as it exits (ENOTEMPTY): retry.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/** The DOM after Chromium has parsed and laid out the file. */
export function dumpDom(chromium: string, path: string): string {
  return run(chromium, ["--dump-dom", pathToFileURL(resolve(path)).href]).stdout;
}

/** Saves a PNG of the page's top `height` pixels; returns its size in bytes. */
export function screenshot(chromium: string, path: string, png: string, size = { width: 1280, height: 2400 }): number {
  run(chromium, [
    `--window-size=${size.width},${size.height}`,
    `--screenshot=${resolve(png)}`,
    pathToFileURL(resolve(path)).href,
  ]);
  return existsSync(png) ? readFileSync(png).length : 0;
}

/** Chromium's rendering of an XML (SVG) file that does not parse. */
export const XML_ERROR = /This page contains the following errors|parsererror/;

// `node --import tsx test/report/browser.ts [HTML] [PNG]`: screenshot a report (default: the shipped EfficientNet one).
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const chromium = findChromium();
  if (!chromium) {
    console.error("no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)");
    process.exit(1);
  }
  const html = process.argv[2] ?? "generated/reports/efficientnet.html";
  const png = process.argv[3] ?? "tmp/report-screenshot.png";
  const dom = dumpDom(chromium, html);
  const figures = (dom.match(/<figure /g) ?? []).length;
  const svgs = (dom.match(/<svg /g) ?? []).length;
  const bytes = screenshot(chromium, html, png);
  console.log(`${html}: ${figures} figures, ${svgs} inline SVGs; screenshot ${png} (${bytes} bytes)`);
  process.exit(bytes > 0 && figures === svgs ? 0 : 1);
}
