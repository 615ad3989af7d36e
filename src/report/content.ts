import { BUDGET_METRICS } from "../vocabulary/budgets.ts";
import { formatCount, withCommas } from "../cost/units.ts";
import { SCALING_DIMENSION_NAMES } from "../vocabulary/dimensions.ts";
import { fmt } from "../vocabulary/rounding.ts";
import type { AuditDocument, AuditVariant, Reported } from "./audit.ts";
import type { MemoryAtBatch } from "./memory.ts";
import { slug, type Block, type TableColumn } from "./blocks.ts";
import { applicablePlots, PLOTS } from "./plots.ts";
import { summaryBlocks, type SummaryOptions } from "./summary.ts";
import { bytesUnit, countUnit, doublings, gmacs, paramsUnit, ratio, signedPercent } from "./units.ts";

/**
 * What a report says, as blocks (src/report/blocks.ts), shared by the Markdown and HTML
 * renderers: the variant table, the compound-scaling audit, rounding presets, budgets,
 * memory by batch, plots, and per variant the stage table (Table 1's shape) and the layer
 * table (stage → block → layer, torchinfo-style, src/report/summary.ts).
 */
const phiText = (x: number | null) => (x === null ? "—" : x.toFixed(2));
const right = (header: string): TableColumn => ({ header, align: "right" });
const left = (header: string): TableColumn => ({ header });
const cited = (r: Reported | null, show: (n: number) => string) =>
  r ? [show(r.reported), signedPercent(r.relative)] : ["—", "—"];
const withUnit = (header: string, suffix: string) => (suffix ? `${header} (${suffix})` : header);

export interface ContentOptions {
  /** Include each variant's layer table (long: hundreds of rows per variant). */
  readonly layers?: boolean;
  /** The layer table's depth and columns (src/report/summary.ts). */
  readonly summary?: SummaryOptions;
}

/** The variant table and its note: the first thing every format shows, the terminal included. */
export function variantBlocks(doc: AuditDocument): Block[] {
  const vs = doc.variants;
  const paperParams = paramsUnit(vs.map((v) => v.reported.params?.reported ?? 0));
  const macs = countUnit(vs.flatMap((v) => [v.macs, v.reported.macs?.reported ?? 0]));
  const flops = countUnit(vs.map((v) => v.flops));
  const peak = bytesUnit(vs.map((v) => v.memory.activationBytesPeak));
  const anyCited = vs.some((v) => v.reported.params || v.reported.macs);
  // Cited columns only where the spec cites something: a column of dashes says nothing.
  const citedParams = vs.some((v) => v.reported.params);
  const citedMacs = vs.some((v) => v.reported.macs);
  const anyPhi = vs.some((v) => v.phi !== null);
  const blocks: Block[] = [
    {
      kind: "table",
      columns: [
        left("Variant"),
        ...(anyPhi ? [right("φ")] : []),
        right("Width"),
        right("Depth"),
        right("Resolution"),
        right("Trainable params"),
        right("Total params"),
        ...(citedParams ? [right(withUnit("Paper params", paperParams.suffix)), right("Δ")] : []),
        right(withUnit("MACs", macs.suffix)),
        ...(citedMacs ? [right(withUnit("Paper MACs", macs.suffix)), right("Δ")] : []),
        right(withUnit("FLOPs", flops.suffix)),
        right(`Peak memory (${peak.suffix})`),
      ],
      rows: vs.map((v) => [
        v.name,
        ...(anyPhi ? [v.phi === null ? "—" : fmt(v.phi)] : []),
        fmt(Number(v.width.toFixed(4))),
        fmt(Number(v.depth.toFixed(4))),
        String(v.resolution),
        withCommas(v.params.trainable),
        withCommas(v.params.total),
        ...(citedParams ? cited(v.reported.params, (n) => trimmed(paperParams.show(n))) : []),
        macs.show(v.macs),
        ...(citedMacs ? cited(v.reported.macs, macs.show) : []),
        flops.show(v.flops),
        peak.show(v.memory.activationBytesPeak),
      ]),
    },
  ];
  blocks.push({
    kind: "paragraph",
    text:
      (anyCited
        ? "Paper: the figures the spec cites; Δ = (counted − cited) / cited. A large Δ means the printed figure cannot be reproduced by the counting rules above. "
        : "") + "Peak memory: the most activations alive at once, batch 1, float32.",
  });
  return blocks;
}

/** A cited figure as the paper prints it: 5.3, not 5.300. */
const trimmed = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);

export function reportBlocks(doc: AuditDocument, options: ContentOptions = {}): Block[] {
  const net = doc.network;
  if (!net)
    return [
      { kind: "heading", level: 1, text: `${doc.source}: no report`, id: "no-report" },
      { kind: "paragraph", text: "The spec has errors; see the diagnostics." },
    ];
  const blocks: Block[] = [];
  const h = (level: 1 | 2 | 3, text: string, id = slug(text)) => blocks.push({ kind: "heading", level, text, id });
  const p = (text: string) => blocks.push({ kind: "paragraph", text });

  h(1, `${net.name}: cost audit`);
  p(
    `Source \`${doc.source}\`: input ${net.input.height}×${net.input.width}×${net.input.channels}, ${net.classes} classes, ${net.activation}, squeeze-and-excitation ${net.squeezeExcite || "none"}, batch norm momentum ${fmt(net.batchNorm.momentum)} epsilon ${fmt(net.batchNorm.epsilon)}. ` +
      `Convention \`${net.convention.name}\` (${net.convention.source}): padding ${net.convention.padding}; preprocessing ${net.convention.preprocessing}; the classifier outputs ${net.convention.classifier}. ` +
      `Rounding preset \`${net.rounding.preset}\` (${net.rounding.source}).`,
  );
  const contentsAt = blocks.length;

  // The pictures first: a reader sees the shape of the family before any table.
  const plots = applicablePlots(doc);
  if (plots.length) {
    h(2, "Plots");
    for (const plot of plots)
      blocks.push({
        kind: "figure",
        plot,
        svg: PLOTS[plot].draw(doc),
        caption: `${PLOTS[plot].title}. ${PLOTS[plot].caption(doc)}`,
      });
  }

  h(2, "Variants");
  blocks.push(...variantBlocks(doc));

  blocks.push(...auditSections(doc));

  h(2, "Conventions");
  blocks.push({ kind: "list", items: Object.entries(doc.conventions).map(([k, v]) => `**${k}**: ${v}`) });
  p(
    "Counts use decimal prefixes (K = 10³, M = 10⁶, G = 10⁹); bytes use binary ones (KiB = 2¹⁰, MiB = 2²⁰, GiB = 2³⁰ bytes), except the layer summaries' torchinfo-style sizes in MB (10⁶ bytes).",
  );

  for (const v of doc.variants) variantSection(v, h, p, blocks, options);
  blocks.splice(contentsAt, 0, tableOfContents(blocks));
  return blocks;
}

/** Links to the second-level sections. */
function tableOfContents(blocks: readonly Block[]): Block {
  return {
    kind: "contents",
    entries: blocks.flatMap((b) =>
      b.kind === "heading" && b.level === 2 ? [{ text: b.text, id: b.id, level: 2 as const }] : [],
    ),
  };
}

type H = (level: 1 | 2 | 3, text: string, id?: string) => void;
type P = (text: string) => void;

/** The audit's sections after the variant table, for every format (the terminal too): compound scaling, presets, budgets, memory. */
export function auditSections(doc: AuditDocument): Block[] {
  if (!doc.network) return [];
  const blocks: Block[] = [];
  const h: H = (level, text, id = slug(text)) => blocks.push({ kind: "heading", level, text, id });
  const p: P = (text) => blocks.push({ kind: "paragraph", text });
  compoundSection(doc, h, p, blocks);
  presetSection(doc, h, p, blocks);
  budgetSection(doc, h, p, blocks);
  memorySection(doc, h, p, blocks);
  return blocks;
}

function compoundSection(doc: AuditDocument, h: H, p: P, blocks: Block[]): void {
  const c = doc.network!.scaling.compound;
  const audited = doc.variants.filter((v) => v.compound);
  if (!c || audited.length === 0) return;
  const k = c.constraint;
  h(2, "Compound scaling");
  p(
    `α = ${fmt(c.alpha)}, β = ${fmt(c.beta)}, γ = ${fmt(c.gamma)}` +
      (k
        ? `; ${k.expression} = ${fmt(k.value)}, target ${fmt(k.target)}${k.tolerance !== null ? ` ± ${fmt(k.tolerance)}` : ""}, distance ${k.distance >= 0 ? "+" : "−"}${fmt(Math.abs(k.distance))}`
        : "") +
      `. Baseline (the stage table as written, ${doc.network!.baseline.resolution} px): ${withCommas(doc.network!.baseline.params.total)} parameters, ${gmacs(doc.network!.baseline.macs)} MACs.`,
  );
  p(
    "Section 3.3 of the paper: d = α^φ, w = β^φ, r = γ^φ, and FLOPS grow about 2^φ. The implied φ of each dimension is log d / log α, log w / log β, log(r/r₀) / log γ; " +
      "φ is the variant's declared φ, or (φ implied) the one its coefficients amount to, (α·β²·γ²)^φ = d·w²·(r/r₀)². Deviations are in doublings (log₂ units, the unit of φ): " +
      "deviation = log₂(MACs ratio) − φ, and a deviation of +0.1 means the variant costs 2^0.1 = 1.07× what 2^φ predicts.",
  );
  blocks.push({
    kind: "table",
    columns: [
      left("Variant"),
      right("φ"),
      right("φ from depth"),
      right("φ from width"),
      right("φ from resolution"),
      right("MACs ÷ baseline"),
      right("2^φ"),
      right("Deviation"),
      right("from depth"),
      right("from width"),
      right("from resolution"),
    ],
    rows: audited.map((v) => {
      const a = v.compound!;
      return [
        v.name,
        `${a.phi.toFixed(3)}${a.phiSource === "implied" ? " (implied)" : ""}`,
        phiText(a.dimensions.depth.impliedPhi),
        phiText(a.dimensions.width.impliedPhi),
        phiText(a.dimensions.resolution.impliedPhi),
        ratio(a.macsRatio),
        ratio(a.lawRatio),
        doublings(a.deviation),
        ...SCALING_DIMENSION_NAMES.map((d) => doublings(a.dimensions[d].contribution)),
      ];
    }),
  });
  p(
    "Where the deviation comes from: a Shapley decomposition of log₂(MACs ratio) over the three dimensions (the average, over the 6 orders of switching depth, width and resolution from the baseline's value to the variant's, of the change each switch causes), minus each dimension's share of φ (ln α : 2 ln β : 2 ln γ). The three contributions sum to the deviation exactly. Each splits in two: " +
      "**rounding**, log₂(realized ÷ nominal cost factor), what rounding the dimension (ceil of repeats, multiples of 8, strided halving of odd sizes) and the parts it does not scale (the fixed stem and head, depthwise convolutions and the classifier that are linear in width, the classifier that ignores resolution) make of the coefficient; " +
      "and **coefficient**, log₂(nominal cost factor) − the dimension's share of φ, the coefficient's own departure from the compound rule (for a φ variant only its share of the α·β²·γ² ≠ 2 gap). Nominal cost factors are d, w², (r/r₀)².",
  );
  blocks.push({
    kind: "table",
    wide: true,
    columns: [
      left("Variant"),
      ...SCALING_DIMENSION_NAMES.flatMap((d) => [
        right(`${d}: nominal`),
        right(`${d}: realized`),
        right(`${d}: rounding`),
        right(`${d}: coefficient`),
      ]),
    ],
    rows: audited.map((v) => [
      v.name,
      ...SCALING_DIMENSION_NAMES.flatMap((d) => {
        const x = v.compound!.dimensions[d];
        return [
          ratio(x.nominalCostFactor),
          ratio(x.realizedCostFactor),
          doublings(x.rounding),
          doublings(x.coefficientPart),
        ];
      }),
    ]),
  });
}

function presetSection(doc: AuditDocument, h: H, p: P, blocks: Block[]): void {
  const net = doc.network!;
  if (net.rounding.alternatives.length === 0 || doc.variants.length === 0) return;
  h(2, "Rounding presets");
  p(
    `This report uses \`${net.rounding.preset}\`. Where the reference implementations disagree, each variant was also built under ${net.rounding.alternatives.map((a) => `\`${a}\``).join(", ")} (\`rounding NAME\` in the spec selects one).`,
  );
  const differing = doc.variants.flatMap((v) => v.roundingPresets.filter((r) => !r.sameShape).map((r) => ({ v, r })));
  if (differing.length === 0) {
    p(`Every variant has the same shape under ${net.rounding.alternatives.map((a) => `\`${a}\``).join(", ")}.`);
    return;
  }
  const built = differing.flatMap(({ r }) => (r.macs === null ? [] : [r.macs]));
  const macs = countUnit(built);
  const delta = countUnit(differing.flatMap(({ v, r }) => (r.macs === null ? [] : [r.macs - v.macs])));
  blocks.push({
    kind: "table",
    columns: [
      left("Variant"),
      left("Preset"),
      left(`Stages that differ (${net.rounding.preset} → other)`),
      right("Total params"),
      right(withUnit("MACs", macs.suffix)),
      right(withUnit("Δ MACs", delta.suffix)),
    ],
    rows: differing.map(({ v, r }) => [
      v.name,
      r.preset,
      r.differences
        .map((d) =>
          `stage ${d.stage}: ${d.channels[0] === d.channels[1] ? "" : `${d.channels[0]} → ${d.channels[1]} channels`}${d.layers[0] === d.layers[1] ? "" : ` ${d.layers[0]} → ${d.layers[1]} layers`}`.trim(),
        )
        .join("; "),
      // A preset that rounds a stage away cannot build the network: say so, cost nothing.
      r.params === null ? `refused (${r.refused})` : withCommas(r.params.total),
      r.macs === null ? "—" : macs.show(r.macs),
      r.macs === null ? "—" : `${r.macs >= v.macs ? "+" : "−"}${delta.show(Math.abs(r.macs - v.macs))}`,
    ]),
  });
  const same = doc.variants.filter((v) => v.roundingPresets.every((r) => r.sameShape)).map((v) => v.name);
  if (same.length) p(`Same shape under every preset: ${same.join(", ")}.`);
}

function budgetSection(doc: AuditDocument, h: H, p: P, blocks: Block[]): void {
  if (doc.budgets.length === 0) return;
  h(2, "Budgets");
  blocks.push({
    kind: "table",
    columns: [left("Budget"), right("Line"), left("Variant"), right("Figure"), left("Fits"), right("Headroom")],
    // Each budget's figures in the unit of its limit, 3 decimals: 2.022M and 15.100M, never 15.1M beside 2.022M.
    rows: doc.budgets.flatMap((b) => {
      const unit = countUnit([b.limit]);
      const show = (n: number) => `${unit.show(n)}${unit.suffix}`;
      return b.checks.map((c) => [
        `${BUDGET_METRICS[b.metric].name} ≤ ${formatCount(b.limit)}${b.variant ? ` (${b.variant} only)` : ""}`,
        String(b.line),
        c.variant,
        show(c.value),
        c.fits ? "yes" : "**no**",
        `${c.headroom < 0 ? "−" : ""}${show(Math.abs(c.headroom))}`,
      ]);
    }),
  });
  p("A variant over a budget is also an error (EFF4001) pointing at the budget's line.");
}

function memorySection(doc: AuditDocument, h: H, p: P, blocks: Block[]): void {
  if (doc.variants.length === 0) return;
  h(2, "Memory by batch size");
  const all = doc.variants.flatMap((v) => v.memoryByBatch);
  // One binary unit per column, the one its largest figure needs.
  const column = (header: string, get: (m: MemoryAtBatch) => number) => {
    const unit = bytesUnit(all.map(get));
    return { header: right(`${header} (${unit.suffix})`), show: (m: MemoryAtBatch) => unit.show(get(m)) };
  };
  const cells = [
    column("Parameters", (m) => m.inference.params),
    column("Inference activations", (m) => m.inference.activations),
    column("Inference total", (m) => m.inference.total),
    column("Gradients", (m) => m.training.gradients),
    column(`Optimizer (${doc.memorySettings.optimizer})`, (m) => m.training.optimizerState),
    column("Training activations", (m) => m.training.activations),
    column("Working set + heap", (m) => m.training.workspace + m.training.heapOverhead),
    column("Training total", (m) => m.training.total),
  ];
  p(`${doc.conventions.memoryByBatch}. Optimizer: ${doc.memorySettings.optimizerState}.`);
  blocks.push({
    kind: "table",
    columns: [left("Variant"), right("Batch"), ...cells.map((c) => c.header)],
    rows: doc.variants.flatMap((v) =>
      v.memoryByBatch.map((m) => [v.name, String(m.batch), ...cells.map((c) => c.show(m))]),
    ),
  });
}

function variantSection(v: AuditVariant, h: H, p: P, blocks: Block[], options: ContentOptions): void {
  h(2, `Variant ${v.name}`);
  p(
    `Width ${fmt(v.width)}, depth ${fmt(v.depth)}, resolution ${v.resolution}${v.phi !== null ? ` (from φ = ${fmt(v.phi)})` : ""}, dropout ${fmt(v.dropout)}: ` +
      `${withCommas(v.params.total)} parameters (${withCommas(v.params.trainable)} trainable, ${withCommas(v.params.nonTrainable)} non-trainable), ${gmacs(v.macs)} MACs = ${gmacs(v.flops)} FLOPs, ${formatCount(v.elementwise)} elementwise operations.`,
  );
  h(3, `${v.name}: stages`, slug(`${v.name} stages`));
  blocks.push(stageTable(v));
  if (options.layers === false) return;
  blocks.push({
    kind: "details",
    summary: `${v.name}: ${v.layers.length} layers, stage → block → layer (torchinfo-style, with MACs)`,
    blocks: layerTable(v, options.summary),
  });
}

/** A variant's stage table in the shape of the paper's Table 1, scaled, with the rounding behind each number. */
export function stageTable(v: AuditVariant): Block {
  const macs = countUnit(v.stages.map((s) => s.macs));
  return {
    kind: "table",
    columns: [
      right("Stage"),
      left("Operator"),
      right("Resolution"),
      right("Output"),
      right("Channels"),
      right("Layers"),
      right("Stride"),
      right("Params"),
      right(withUnit("MACs", macs.suffix)),
      right("MACs %"),
      left("Channels from"),
      left("Layers from"),
    ],
    rows: v.stages.map((s) => [
      String(s.stage),
      s.operator,
      `${s.inputResolution[0]}×${s.inputResolution[1]}`,
      `${s.outputResolution[0]}×${s.outputResolution[1]}`,
      String(s.channels),
      String(s.layers),
      String(s.stride),
      withCommas(s.params.total),
      macs.show(s.macs),
      (s.macsShare * 100).toFixed(1),
      s.channelsProvenance,
      s.layersProvenance,
    ]),
  };
}

/** A variant's layers grouped stage → block → layer, like torchinfo's summary, with MACs and the totals. */
export function layerTable(v: AuditVariant, options: SummaryOptions = {}): Block[] {
  return summaryBlocks(v, options);
}
