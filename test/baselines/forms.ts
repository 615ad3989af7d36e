import { positionAt, type SourceFile } from "../../src/diagnostics/source.ts";
import type { Layer, NetworkIR } from "../../src/ir/ir.ts";
import type { ScaledNetwork } from "../../src/scaling/scale.ts";
import type { Spec } from "../../src/semantics/spec.ts";

/**
 * Text forms of the compiler's intermediate values, for baselines reviewed as diffs (as
 * esbuild's snapshot tests are): every field, in declaration order, one per line, so a
 * change to what a phase produces shows as the lines it changes.
 *   - the checked spec: spans as `@line:col`, an operator by its name (its table entry is code);
 *   - the scaled stage tables: each number with the rounding behind it;
 *   - the layer IR: one line per layer, its inputs, output shape, weights and attributes.
 */
export function specText(spec: Spec, file: SourceFile): string {
  return lines(spec, file, 0).join("\n") + "\n";
}

function isSpan(v: object): v is { start: number; end: number } {
  const keys = Object.keys(v);
  return keys.length === 2 && keys[0] === "start" && keys[1] === "end";
}

function scalar(v: unknown, file: SourceFile): string | undefined {
  if (v === null || typeof v !== "object") return typeof v === "string" ? JSON.stringify(v) : String(v);
  if (isSpan(v)) {
    const p = positionAt(file, v.start);
    return `@${p.line}:${p.column}`;
  }
  if (v instanceof RegExp) return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object"))
    return `[${v.map((x) => scalar(x, file)).join(", ")}]`;
  // An operator definition: a table entry (code and prose), named.
  if ("syntax" in v && "pattern" in v && "name" in v) return `operator ${(v as { name: string }).name}`;
  return undefined;
}

function lines(value: unknown, file: SourceFile, depth: number): string[] {
  const pad = "  ".repeat(depth);
  const out: string[] = [];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [`- [${i}]`, v] as const)
    : Object.entries(value as object);
  for (const [key, v] of entries) {
    if (typeof v === "function" || v === undefined) continue;
    const label = Array.isArray(value) ? key : `${key}:`;
    const flat = scalar(v, file);
    if (flat !== undefined) out.push(`${pad}${label} ${flat}`);
    else out.push(`${pad}${label}`, ...lines(v, file, depth + 1));
  }
  return out;
}

export function scaledText(networks: readonly ScaledNetwork[]): string {
  return (
    networks
      .map((n) => {
        const head = `variant ${n.variant.name}: width ${n.variant.width}, depth ${n.variant.depth}, resolution ${n.variant.resolution}${n.variant.phi === undefined ? "" : ` (φ ${n.variant.phi})`}; input ${n.input.height}x${n.input.width}x${n.input.channels}`;
        const stages = n.stages.map((s) =>
          [
            `  stage ${s.stage.index} ${s.stage.operator.name} ${s.inputResolution.height}x${s.inputResolution.width} → ${s.outputResolution.height}x${s.outputResolution.width}`,
            `    channels ${s.channels.value}: ${s.channels.provenance}`,
            `    layers   ${s.layers.value}: ${s.layers.provenance}`,
            ...(s.expanded ? [`    expanded ${s.expanded.value}: ${s.expanded.provenance}`] : []),
          ].join("\n"),
        );
        return [head, ...stages].join("\n");
      })
      .join("\n\n") + "\n"
  );
}

export function irText(ir: NetworkIR): string {
  const header = `${ir.network} ${ir.variant}: input ${ir.inputShape.join("x")}, ${ir.classes} classes, convention ${JSON.stringify(ir.convention)}, output ${ir.output}`;
  return [header, ...ir.layers.map(layerLine)].join("\n") + "\n";
}

function layerLine(l: Layer): string {
  const weights = l.weights.map((w) => `${w.name}[${w.shape.join(",")}]${w.trainable ? "" : "*"}`).join(" ");
  return [
    `${l.stage}.${l.block} ${l.name} ${l.kind}`,
    `← ${l.inputs.join(", ") || "-"}`,
    `→ [${l.outputShape.join(",")}]`,
    weights && `weights ${weights}`,
    JSON.stringify(l.attrs),
  ]
    .filter(Boolean)
    .join("  ");
}
