import { fmt } from "../scaling/rounding.ts";
import type { AuditDocument } from "./audit.ts";
import { lineChart, PALETTE, stackedBarChart, xmlComment, type Series } from "./svg.ts";

/**
 * The report's plots, drawn from the audit document alone (so every plotted number is
 * one the JSON carries). The one table of plots: the HTML report shows each that
 * applies, `effnet report --format svg --plot NAME` writes one, and --out-dir writes them
 * all beside the other formats.
 */
export interface PlotDef {
  readonly title: string;
  readonly caption: string;
  /** Whether the plot means anything for this document. */
  readonly applies: (doc: AuditDocument) => boolean;
  readonly draw: (doc: AuditDocument) => string;
}

const g = (macs: number) => `${Number((macs / 1e9).toPrecision(3))}G`;
const m = (params: number) => `${Number((params / 1e6).toPrecision(3))}M`;
const COUNTED = PALETTE[0];
const PAPER = PALETTE[1];
const LAW = PALETTE[2];

export const PLOTS = {
  "macs-params": {
    title: "MACs vs parameters",
    caption:
      "Multiply-adds (the paper's \"FLOPS\") against parameters for every variant, log–log: the shape of the paper's Figure 1 with cost on the vertical axis. Filled: counted by effnet; hollow: the figures the spec cites.",
    applies: (doc) => doc.variants.length > 0,
    draw: (doc) => {
      const series: Series[] = [
        {
          name: "counted",
          color: COUNTED,
          marker: "dot",
          points: doc.variants.map((v) => ({ x: v.params.total, y: v.macs, label: v.name })),
        },
      ];
      const cited = doc.variants.filter((v) => v.reported.params && v.reported.macs);
      if (cited.length)
        series.push({
          name: "cited (paper)",
          color: PAPER,
          marker: "ring",
          line: "dashed",
          points: cited.map((v) => ({ x: v.reported.params!.reported, y: v.reported.macs!.reported })),
        });
      return lineChart({
        id: "macs-params",
        title: `${doc.network!.name}: MACs vs parameters`,
        comment: `effnet report: ${doc.source}; counted MACs and total parameters per variant`,
        x: { label: "parameters (total, log scale)", scale: "log10", format: m },
        y: { label: "multiply-adds per image (log scale)", scale: "log10", format: g },
        series,
      });
    },
  },
  "stage-macs": {
    title: "MACs per stage",
    caption:
      "Each variant's multiply-adds split by stage of the stage table, as shares of its total (printed above each bar): where scaling puts the cost.",
    applies: (doc) => doc.variants.length > 0,
    draw: (doc) => {
      const stages = doc.network!.stages;
      return stackedBarChart({
        id: "stage-macs",
        title: `${doc.network!.name}: MACs per stage`,
        comment: `effnet report: ${doc.source}; per-stage MACs of each variant`,
        yLabel: "share of the variant's multiply-adds",
        categories: doc.variants.map((v) => v.name),
        totals: doc.variants.map((v) => g(v.macs)),
        series: stages.map((s, i) => ({
          name: `${s.stage}: ${s.operator}`,
          color: PALETTE[i % PALETTE.length],
          values: doc.variants.map((v) => v.stages.find((vs) => vs.stage === s.stage)?.macs ?? 0),
        })),
      });
    },
  },
  growth: {
    title: "MACs growth against 2^φ",
    caption:
      "MACs of each variant divided by the baseline's, against φ (declared, or implied by the coefficients: (α·β²·γ²)^φ = d·w²·(r/r₀)²), on a log₂ axis. The law of section 3.3 predicts 2^φ; the dashed line is (α·β²·γ²)^φ, what the declared α, β, γ give before rounding.",
    applies: (doc) => doc.variants.some((v) => v.compound),
    draw: (doc) => {
      const c = doc.network!.scaling.compound!;
      const audited = doc.variants.filter((v) => v.compound);
      const phis = audited.map((v) => v.compound!.phi);
      const maxPhi = Math.max(1, ...phis);
      const samples = Array.from({ length: 41 }, (_, i) => (i / 40) * maxPhi);
      const product = c.alpha * c.beta ** 2 * c.gamma ** 2;
      return lineChart({
        id: "growth",
        title: `${doc.network!.name}: MACs growth against 2^φ`,
        comment: `effnet report: ${doc.source}; MACs ratio to the baseline per variant`,
        x: { label: "φ", scale: "linear", format: (v) => fmt(v), include: [0] },
        y: { label: "MACs ÷ baseline MACs (log₂ scale)", scale: "log2", format: (v) => `${fmt(v)}×` },
        series: [
          {
            name: "counted",
            color: COUNTED,
            marker: "dot",
            line: "none",
            points: audited.map((v) => ({ x: v.compound!.phi, y: v.compound!.macsRatio, label: v.name })),
          },
          { name: "2^φ", color: LAW, points: samples.map((x) => ({ x, y: 2 ** x })) },
          {
            name: `${fmt(Number(product.toFixed(4)))}^φ (α·β²·γ²)`,
            color: PAPER,
            line: "dashed",
            points: samples.map((x) => ({ x, y: product ** x })),
          },
        ],
      });
    },
  },
} as const satisfies Record<string, PlotDef>;

export type PlotName = keyof typeof PLOTS;
export const PLOT_NAMES = Object.keys(PLOTS) as PlotName[];

export function applicablePlots(doc: AuditDocument): PlotName[] {
  return PLOT_NAMES.filter((p) => (PLOTS[p] as PlotDef).applies(doc));
}

/** A standalone SVG file: the chart with a generated-file comment. */
export function plotFile(doc: AuditDocument, plot: PlotName): string {
  // No "--" inside an XML comment, so the command is described rather than quoted.
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xmlComment(`Generated by effnet report (format svg, plot ${plot}) from ${doc.source}. Do not edit: regenerate with npm run generate:reports.`)}\n${PLOTS[plot].draw(doc)}\n`;
}
