import type { CompiledVariant } from "../compile.ts";
import type { ParamCount } from "../cost/cost.ts";
import { withCommas } from "../cost/units.ts";
import { fmt } from "../vocabulary/rounding.ts";
import { DEFAULT_WIDTH, renderTable, wrap } from "./table.ts";
import { countUnit } from "./units.ts";

/**
 * `effnet diff A B`: what changes between two variants, of one spec or of two, stage by
 * stage (stages are matched by their row number in the stage table). Every Δ is B − A.
 */
export interface DiffSide {
  readonly source: string;
  readonly network: string;
  readonly variant: string;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly params: ParamCount;
  readonly macs: number;
}

interface Change<T> {
  readonly a: T | null;
  readonly b: T | null;
  readonly delta: T | null;
}

export interface StageDiff {
  readonly stage: number;
  readonly operator: { readonly a: string | null; readonly b: string | null };
  readonly channels: Change<number>;
  readonly layers: Change<number>;
  /** The stage's input resolution (height), pixels. */
  readonly resolution: Change<number>;
  /** Total parameters. */
  readonly params: Change<number>;
  readonly macs: Change<number>;
}

export interface DiffDocument {
  readonly a: DiffSide;
  readonly b: DiffSide;
  readonly stages: readonly StageDiff[];
  readonly total: { readonly params: Change<number>; readonly macs: Change<number>; readonly layers: Change<number> };
}

const change = (a: number | null, b: number | null): Change<number> => ({
  a,
  b,
  delta: a === null || b === null ? null : b - a,
});

function side(source: string, v: CompiledVariant): DiffSide {
  return {
    source,
    network: v.scaled.spec.name,
    variant: v.variant.name,
    width: v.variant.width,
    depth: v.variant.depth,
    resolution: v.variant.resolution,
    params: v.cost.params,
    macs: v.cost.macs,
  };
}

export function diffVariants(
  a: { source: string; compiled: CompiledVariant },
  b: { source: string; compiled: CompiledVariant },
): DiffDocument {
  // Rows by stage number: a variant may leave a stage out (0 layers, src/semantics/overrides.ts).
  const indices = [
    ...new Set([...a.compiled.scaled.stages, ...b.compiled.scaled.stages].map((s) => s.stage.index)),
  ].sort((x, y) => x - y);
  const view = (v: CompiledVariant, index: number) => {
    const s = v.scaled.stages.find((x) => x.stage.index === index);
    if (!s) return null;
    const c = v.cost.stages.find((x) => x.stage === s.stage.index);
    return {
      operator: s.stage.operator.print(s.stage.params),
      channels: s.channels.value,
      layers: s.layers.value,
      resolution: s.inputResolution.height,
      params: c?.params.total ?? 0,
      macs: c?.macs ?? 0,
    };
  };
  const stages: StageDiff[] = [];
  for (const index of indices) {
    const x = view(a.compiled, index);
    const y = view(b.compiled, index);
    stages.push({
      stage: index,
      operator: { a: x?.operator ?? null, b: y?.operator ?? null },
      channels: change(x?.channels ?? null, y?.channels ?? null),
      layers: change(x?.layers ?? null, y?.layers ?? null),
      resolution: change(x?.resolution ?? null, y?.resolution ?? null),
      params: change(x?.params ?? null, y?.params ?? null),
      macs: change(x?.macs ?? null, y?.macs ?? null),
    });
  }
  const layers = (v: CompiledVariant) => v.scaled.stages.reduce((n, s) => n + s.layers.value, 0);
  return {
    a: side(a.source, a.compiled),
    b: side(b.source, b.compiled),
    stages,
    total: {
      params: change(a.compiled.cost.params.total, b.compiled.cost.params.total),
      macs: change(a.compiled.cost.macs, b.compiled.cost.macs),
      layers: change(layers(a.compiled), layers(b.compiled)),
    },
  };
}

const signed = (x: number | null, show: (n: number) => string = String) =>
  x === null ? "—" : x === 0 ? "0" : `${x > 0 ? "+" : "−"}${show(Math.abs(x))}`;
const plain = (x: number | null, show: (n: number) => string = String) => (x === null ? "—" : show(x));
const arrow = (c: Change<number>, show: (n: number) => string = String) =>
  c.a === c.b ? plain(c.a, show) : `${plain(c.a, show)} → ${plain(c.b, show)}`;

/** The diff in a terminal, `width` columns at most; MACs in one unit, the one the largest figure needs. */
export function renderDiff(d: DiffDocument, width = DEFAULT_WIDTH): string {
  const name = (s: DiffSide) => `${s.network} ${s.variant} (${s.source})`;
  const unit = countUnit([d.total.macs.a ?? 0, d.total.macs.b ?? 0]);
  const macs = unit.show;
  const lines = [
    ...wrap(`A: ${name(d.a)}: width ${fmt(d.a.width)}, depth ${fmt(d.a.depth)}, resolution ${d.a.resolution}`, width),
    ...wrap(`B: ${name(d.b)}: width ${fmt(d.b.width)}, depth ${fmt(d.b.depth)}, resolution ${d.b.resolution}`, width),
    ...wrap(
      `Δ = B − A; resolution is each stage's input height in pixels; params are totals; MACs are multiply-adds for one image.`,
      width,
    ),
    "",
    renderTable(
      [
        { header: "Stage", align: "right" },
        { header: "Operator" },
        { header: "Channels", align: "right" },
        { header: "ΔCh", align: "right" },
        { header: "Layers", align: "right" },
        { header: "ΔL", align: "right" },
        { header: "Resolution", align: "right" },
        { header: "ΔRes", align: "right" },
        { header: "Params", align: "right" },
        { header: "ΔParams", align: "right" },
        { header: unit.suffix ? `MACs (${unit.suffix})` : "MACs", align: "right" },
        { header: unit.suffix ? `ΔMACs (${unit.suffix})` : "ΔMACs", align: "right" },
      ],
      [
        ...d.stages.map((s) => [
          String(s.stage),
          s.operator.a === s.operator.b ? (s.operator.a ?? "—") : `${s.operator.a ?? "—"} → ${s.operator.b ?? "—"}`,
          arrow(s.channels),
          signed(s.channels.delta),
          arrow(s.layers),
          signed(s.layers.delta),
          arrow(s.resolution),
          signed(s.resolution.delta),
          arrow(s.params, withCommas),
          signed(s.params.delta, withCommas),
          arrow(s.macs, macs),
          signed(s.macs.delta, macs),
        ]),
        [
          "total",
          "",
          "",
          "",
          arrow(d.total.layers),
          signed(d.total.layers.delta),
          "",
          "",
          arrow(d.total.params, withCommas),
          signed(d.total.params.delta, withCommas),
          arrow(d.total.macs, macs),
          signed(d.total.macs.delta, macs),
        ],
      ],
      "",
      width,
    ),
  ];
  return lines.join("\n");
}
