import { formatBytes, formatCount, withCommas } from "../cost/units.ts";
import { fmt } from "../scaling/rounding.ts";
import type { AuditDocument, AuditVariant, Reported } from "./audit.ts";
import { slug, type Block, type TableColumn } from "./blocks.ts";
import { DIMENSIONS } from "./compound.ts";
import { applicablePlots, PLOTS } from "./plots.ts";

/**
 * What a report says, as blocks (src/report/blocks.ts), shared by the Markdown and HTML
 * renderers: the variant table, the compound-scaling audit, rounding presets, budgets,
 * memory by batch, plots, and per variant the stage table (Table 1's shape) and the layer
 * table (Keras model.summary() with MACs).
 */
/** MACs in G with 3 decimals, as papers print ImageNet-sized networks (0.386 G); small networks in their own unit (2.022M). */
export const gmacs = (n: number) => (n >= 1e8 ? `${(n / 1e9).toFixed(3)} G` : formatCount(n));
export const signedPercent = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}%`;
/** Doublings (log₂ units), signed, 3 decimals: +0.474. */
export const doublings = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`;
export const ratio = (x: number) => `${x.toFixed(2)}×`;
const phiText = (x: number | null) => (x === null ? "—" : x.toFixed(2));
const right = (header: string): TableColumn => ({ header, align: "right" });
const left = (header: string): TableColumn => ({ header });
const cited = (r: Reported | null, show: (n: number) => string) =>
  r ? [show(r.reported), signedPercent(r.relative)] : ["—", "—"];

export interface ContentOptions {
  /** Include each variant's layer table (long: hundreds of rows per variant). */
  readonly layers?: boolean;
}

/** The variant table and its note: the first thing every format shows, the terminal included. */
export function variantBlocks(doc: AuditDocument): Block[] {
  const blocks: Block[] = [
    {
      kind: "table",
      columns: [
        left("Variant"),
        right("φ"),
        right("Width"),
        right("Depth"),
        right("Resolution"),
        right("Trainable params"),
        right("Total params"),
        right("Paper params"),
        right("Δ"),
        right("MACs"),
        right("Paper MACs"),
        right("Δ"),
        right("FLOPs"),
        right("Peak activations"),
      ],
      rows: doc.variants.map((v) => [
        v.name,
        v.phi === null ? "—" : fmt(v.phi),
        fmt(Number(v.width.toFixed(4))),
        fmt(Number(v.depth.toFixed(4))),
        String(v.resolution),
        withCommas(v.params.trainable),
        withCommas(v.params.total),
        ...cited(v.reported.params, (n) => formatCount(n, 2)),
        gmacs(v.macs),
        ...cited(v.reported.macs, gmacs),
        gmacs(v.flops),
        formatBytes(v.memory.activationBytesPeak),
      ]),
    },
  ];
  if (doc.variants.some((v) => v.reported.params || v.reported.macs)) {
    blocks.push({
      kind: "paragraph",
      text: "Paper: the figures the spec cites; Δ = (counted − cited) / cited. A large Δ means the printed figure cannot be reproduced by the counting rules above. Peak activations: batch 1, float32.",
    });
  }
  return blocks;
}

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
      `Rounding preset \`${net.rounding.preset}\` (${net.rounding.source}).`,
  );
  h(2, "Conventions");
  blocks.push({ kind: "list", items: Object.entries(doc.conventions).map(([k, v]) => `**${k}**: ${v}`) });
  p(
    "Counts use decimal prefixes (K = 10³, M = 10⁶, G = 10⁹); bytes use binary ones (KiB = 2¹⁰, MiB = 2²⁰, GiB = 2³⁰ bytes).",
  );

  h(2, "Variants");
  blocks.push(...variantBlocks(doc));

  blocks.push(...auditSections(doc));

  const plots = applicablePlots(doc);
  if (plots.length) {
    h(2, "Plots");
    for (const plot of plots)
      blocks.push({
        kind: "figure",
        plot,
        svg: PLOTS[plot].draw(doc),
        caption: `${PLOTS[plot].title}. ${PLOTS[plot].caption}`,
      });
  }

  for (const v of doc.variants) variantSection(v, h, p, blocks, options);
  return blocks;
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
        ...DIMENSIONS.map((d) => doublings(a.dimensions[d].contribution)),
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
      ...DIMENSIONS.flatMap((d) => [
        right(`${d}: nominal`),
        right(`${d}: realized`),
        right(`${d}: rounding`),
        right(`${d}: coefficient`),
      ]),
    ],
    rows: audited.map((v) => [
      v.name,
      ...DIMENSIONS.flatMap((d) => {
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
  blocks.push({
    kind: "table",
    columns: [
      left("Variant"),
      left("Preset"),
      left(`Stages that differ (${net.rounding.preset} → other)`),
      right("Total params"),
      right("MACs"),
      right("Δ MACs"),
    ],
    rows: differing.map(({ v, r }) => [
      v.name,
      r.preset,
      r.differences
        .map((d) =>
          `stage ${d.stage}: ${d.channels[0] === d.channels[1] ? "" : `${d.channels[0]} → ${d.channels[1]} channels`}${d.layers[0] === d.layers[1] ? "" : ` ${d.layers[0]} → ${d.layers[1]} layers`}`.trim(),
        )
        .join("; "),
      withCommas(r.params.total),
      gmacs(r.macs),
      `${r.macs >= v.macs ? "+" : "−"}${formatCount(Math.abs(r.macs - v.macs))}`,
    ]),
  });
  const same = doc.variants.filter((v) => v.roundingPresets.every((r) => r.sameShape)).map((v) => v.name);
  if (same.length) p(`Same shape under every preset: ${same.join(", ")}.`);
}

const metricName = { macs: "MACs", flops: "FLOPs", params: "parameters" } as const;

function budgetSection(doc: AuditDocument, h: H, p: P, blocks: Block[]): void {
  if (doc.budgets.length === 0) return;
  h(2, "Budgets");
  blocks.push({
    kind: "table",
    columns: [left("Budget"), right("Line"), left("Variant"), right("Figure"), left("Fits"), right("Headroom")],
    rows: doc.budgets.flatMap((b) =>
      b.checks.map((c) => [
        `${metricName[b.metric]} ≤ ${formatCount(b.limit)}${b.variant ? ` (${b.variant} only)` : ""}`,
        String(b.line),
        c.variant,
        formatCount(c.value),
        c.fits ? "yes" : "**no**",
        `${c.headroom < 0 ? "−" : ""}${formatCount(Math.abs(c.headroom))}`,
      ]),
    ),
  });
  p("A variant over a budget is also an error (EFF4001) pointing at the budget's line.");
}

function memorySection(doc: AuditDocument, h: H, p: P, blocks: Block[]): void {
  if (doc.variants.length === 0) return;
  h(2, "Memory by batch size");
  p(`${doc.conventions.memoryByBatch}. Optimizer: ${doc.memorySettings.optimizerState}.`);
  blocks.push({
    kind: "table",
    columns: [
      left("Variant"),
      right("Batch"),
      right("Parameters"),
      right("Inference activations"),
      right("Inference total"),
      right("Gradients"),
      right(`Optimizer (${doc.memorySettings.optimizer})`),
      right("Training activations"),
      right("Working set + heap"),
      right("Training total"),
    ],
    rows: doc.variants.flatMap((v) =>
      v.memoryByBatch.map((m) => [
        v.name,
        String(m.batch),
        formatBytes(m.inference.params),
        formatBytes(m.inference.activations),
        formatBytes(m.inference.total),
        formatBytes(m.training.gradients),
        formatBytes(m.training.optimizerState),
        formatBytes(m.training.activations),
        formatBytes(m.training.workspace + m.training.heapOverhead),
        formatBytes(m.training.total),
      ]),
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
    summary: `${v.name}: ${v.layers.length} layers (model.summary() with MACs)`,
    blocks: layerTable(v),
  });
}

/** A variant's stage table in the shape of the paper's Table 1, scaled, with the rounding behind each number. */
export function stageTable(v: AuditVariant): Block {
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
      right("MACs"),
      right("Share"),
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
      formatCount(s.macs),
      `${(s.macsShare * 100).toFixed(1)}%`,
      s.channelsProvenance,
      s.layersProvenance,
    ]),
  };
}

/** A variant's layers, like Keras's model.summary() or torchinfo, with MACs, and the totals. */
export function layerTable(v: AuditVariant): Block[] {
  return [
    {
      kind: "table",
      columns: [left("Layer"), left("Kind"), right("Stage"), right("Output shape"), right("Params"), right("MACs")],
      rows: v.layers.map((l) => [
        l.name,
        l.kind,
        String(l.stage),
        `(${["None", ...l.outputShape].join(", ")})`,
        withCommas(l.params.total),
        withCommas(l.macs),
      ]),
    },
    {
      kind: "paragraph",
      text: `Total params: ${withCommas(v.params.total)}. Trainable: ${withCommas(v.params.trainable)}. Non-trainable: ${withCommas(v.params.nonTrainable)}. MACs: ${withCommas(v.macs)}.`,
    },
  ];
}
