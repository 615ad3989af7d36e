import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";
import { audit } from "../src/report/audit.ts";

/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepare`, here
 * in a copy of the sources),
 * installed from the tarball into an empty directory outside the repository, where the
 * README's commands and snippets run as written: `npx effnet` on a spec there, the
 * library API from JavaScript, a `--emit js` model under plain node, the same snippet
 * under tsc. The install takes its dependencies from npm's cache (`--prefer-offline`,
 * filled by `npm ci`); where they are not cached and the registry cannot be reached, the
 * test says so and skips.
 */
const ROOT = resolve(new URL("..", import.meta.url).pathname);
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";
const OFFLINE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|network/;
/** What `npm pack` needs of the checkout: the package's files and what builds dist/. */
const PACKAGE_SOURCES = [
  "package.json",
  "README.md",
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts",
  "src",
  "bin",
  "schema",
  "specs",
];
const work = mkdtempSync(join(tmpdir(), "effnet-package-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  expect(result.status, `${what} failed:\n${result.stderr}\n${result.stdout}`).toBe(0);
  return result.stdout;
}

/** The README's fenced code blocks of one language that contain `marker`. */
function readmeBlock(language: string, marker: string): string {
  const blocks = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)];
  const found = blocks.filter(([, lang, code]) => lang === language && code.includes(marker)).map(([, , code]) => code);
  expect(found.length, `one \`\`\`${language} block in README.md with ${marker}`).toBe(1);
  return found[0];
}

describe("the packed package, installed elsewhere", () => {
  it("runs the CLI, the library API and a --emit js model as the README shows them", async (ctx) => {
    // Packed from a copy of the sources, so that its `prepare` (the build) does not rewrite
    // the dist/ that other tests are running at the same time.
    const checkout = join(work, "checkout");
    for (const entry of PACKAGE_SOURCES) cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
    const packed = ok(run(NPM, ["pack", "--pack-destination", work, "--silent"], checkout), "npm pack");
    const tarball = join(work, packed.trim().split("\n").at(-1)!);
    const project = join(work, "project");
    mkdirSync(join(project, "specs"), { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    const install = run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
    if (install.status !== 0 && OFFLINE.test(install.stderr)) {
      console.warn(
        `skipped: npm could not install the package's dependencies (not cached, no registry):\n${install.stderr}`,
      );
      ctx.skip();
    }
    ok(install, "npm install");
    // Only what the package needs at run time was installed: no TypeScript loader, no compiler toolchain.
    const installed = readdirSync(join(project, "node_modules"));
    for (const dev of ["tsx", "typescript", "vitest", "esbuild", "chevrotain"]) expect(installed).not.toContain(dev);

    // The CLI, on a spec outside the repository: the same audit as the sources give.
    copyFileSync(join(ROOT, "specs/efficientnet.effnet"), join(project, "specs/efficientnet.effnet"));
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    expect(ok(run(NPX, ["effnet", "--version"], project), "effnet --version")).toBe(`effnet ${version}\n`);
    const json = JSON.parse(ok(run(NPX, ["effnet", "audit", "specs/efficientnet.effnet", "--json"], project), "audit"));
    const spec = "specs/efficientnet.effnet";
    const expected = audit(compile({ path: spec, text: readFileSync(join(ROOT, spec), "utf8") }));
    expect(json.variants.map((v: { params: unknown }) => v.params)).toEqual(expected.variants.map((v) => v.params));

    // The README's `--emit js` command and model snippet, under plain node and under tsc.
    const command = readmeBlock("sh", "--emit js").trim().split(/\s+/);
    expect(command.slice(0, 2)).toEqual(["npx", "effnet"]);
    ok(run(NPX, command.slice(1), project), command.join(" "));
    const snippet = readmeBlock("js", 'import { buildModel, metadata } from "./models/efficientnet/b0.js"');
    writeFileSync(join(project, "example.js"), snippet);
    const [total, counted] = ok(run(process.execPath, ["example.js"], project), "node example.js")
      .trim()
      .split(" ");
    expect(Number(total)).toBe(expected.variants[0].params.total);
    expect(Number(counted)).toBeGreaterThan(4_000_000); // 10 classes instead of 1000
    // tsc type-checks it against b0.d.ts (skipLibCheck: tfjs's own declarations clash with lib.dom's
    // WebGPU types); a misspelt option proves that the declarations, not `any`, are what it checks.
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: [] },
        include: ["*.ts"],
      }),
    );
    const tsc = (source: string) => {
      writeFileSync(join(project, "example.ts"), source);
      return run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], project);
    };
    ok(tsc(snippet), "tsc example.ts");
    expect(tsc(snippet.replace("classes: 10", "clases: 10")).stdout).toContain("'clases' does not exist");

    // The library API, from JavaScript, as the README shows it.
    writeFileSync(join(project, "library.js"), readmeBlock("js", 'from "effnet"'));
    const library = ok(run(process.execPath, ["library.js"], project), "node library.js").split("\n");
    expect(library[0]).toBe(`B0 ${expected.variants[0].params.trainable} ${expected.variants[0].macs}`);
    writeFileSync(join(project, "runtime.js"), readmeBlock("js", 'from "effnet/runtime"'));
    expect(
      ok(run(process.execPath, ["runtime.js"], project), "node runtime.js")
        .trim()
        .split("\n")
        .at(-1),
    ).toBe("true");
  });
});
