import { formatCount, withCommas } from "../cost/units.ts";
import { fmt } from "../vocabulary/rounding.ts";
import type { AuditDocument, AuditVariant, Reported } from "./audit.ts";
import { gmacs, ratio, signedPercent } from "./units.ts";
import { lineChart, PALETTE, stackedBarChart, xmlComment, type Series } from "./svg.ts";

/**
 * The report's plots, drawn from the audit document alone (so every plotted number is
 * one the JSON carries). The one table of plots: the HTML report shows each that
 * applies, `effnet report --format svg --plot NAME` writes one, and --out-dir writes them
 * all beside the other formats.
 */
export interface PlotDef {
  readonly title: string;
  /** What the plot shows, true for this document (no "cited" points where the spec cites none). */
  readonly caption: (doc: AuditDocument) => string;
  /** Whether the plot means anything for this document. */
  readonly applies: (doc: AuditDocument) => boolean;
  readonly draw: (doc: AuditDocument) => string;
}

/** Tick labels in each tick's own decimal prefix (2M, 5M, 10M, 200M, 1G), never 0.01G. */
const count = (v: number) => formatCount(Number(v.toPrecision(3)));
const COUNTED = PALETTE[0];
const PAPER = PALETTE[1];
const LAW = PALETTE[2];
const cites = (doc: AuditDocument) => doc.variants.some((v) => v.reported.params || v.reported.macs);
const citedPercent = (r: Reported | null) => (r ? r.relative * 100 : undefined);

export const PLOTS = {
  "macs-params": {
    title: "MACs vs parameters",
    caption: (doc) =>
      `Multiply-adds (the paper's "FLOPS") against parameters for every variant as effnet counts them, log–log: the shape of the paper's Figure 1 with cost on the vertical axis.${cites(doc) ? " How the counts compare with the figures the spec cites is the next plot's subject." : ""} Hover a point for its figures.`,
    applies: (doc) => doc.variants.length > 0,
    draw: (doc) =>
      lineChart({
        id: "macs-params",
        title: `${doc.network!.name}: MACs vs parameters`,
        comment: `effnet report: ${doc.source}; counted MACs and total parameters per variant`,
        x: { label: "parameters (total, log scale)", scale: "log10", format: count },
        y: { label: "multiply-adds per image (log scale)", scale: "log10", format: count },
        series: [
          {
            name: "counted",
            color: COUNTED,
            marker: "dot",
            points: doc.variants.map((v) => ({
              x: v.params.total,
              y: v.macs,
              label: v.name,
              tooltip: `${v.name}: ${withCommas(v.params.total)} parameters, ${gmacs(v.macs)} MACs`,
            })),
          },
        ],
      }),
  },
  "counted-cited": {
    title: "Counted against cited",
    caption: () =>
      "For each variant with cited figures, how far effnet's count is from the figure the spec cites: Δ = (counted − cited) / cited, in percent, for parameters and for MACs. 0 is agreement; the paper rounds its figures to two significant digits, so a few percent is rounding, more is a different counting rule or network.",
    applies: cites,
    draw: (doc) => {
      const cited = doc.variants.filter((v) => v.reported.params || v.reported.macs);
      const at = (i: number) => i + 1;
      const series = (
        name: string,
        color: string,
        marker: "dot" | "ring",
        pick: (v: AuditVariant) => Reported | null,
        unit: (n: number) => string,
      ): Series => ({
        name,
        color,
        marker,
        line: "none",
        points: cited.flatMap((v, i) => {
          const r = pick(v);
          const y = citedPercent(r);
          return r && y !== undefined
            ? [
                {
                  x: at(i),
                  y,
                  tooltip: `${v.name}, ${name}: counted ${unit(r.counted)}, cited ${unit(r.reported)} (${signedPercent(r.relative)})`,
                },
              ]
            : [];
        }),
      });
      return lineChart({
        id: "counted-cited",
        title: `${doc.network!.name}: counted against cited`,
        comment: `effnet report: ${doc.source}; (counted − cited) / cited per variant`,
        x: {
          label: "variant",
          scale: "linear",
          format: (x) => cited[x - 1]?.name ?? "",
          ticks: cited.map((_, i) => at(i)),
          include: [0.5, cited.length + 0.5],
        },
        y: { label: "Δ = (counted − cited) / cited", scale: "linear", format: (y) => `${fmt(y)}%`, include: [0] },
        series: [
          series(
            "parameters",
            COUNTED,
            "dot",
            (v) => v.reported.params,
            (n) => withCommas(n),
          ),
          series("MACs", PAPER, "ring", (v) => v.reported.macs, gmacs),
        ],
      });
    },
  },
  "stage-macs": {
    title: "MACs per stage",
    caption: () =>
      "Each variant's multiply-adds split by stage of the stage table, as shares of its total (printed above each bar): where scaling puts the cost. Hover a bar for its share.",
    applies: (doc) => doc.variants.length > 0,
    draw: (doc) => {
      const stages = doc.network!.stages;
      return stackedBarChart({
        id: "stage-macs",
        title: `${doc.network!.name}: MACs per stage`,
        comment: `effnet report: ${doc.source}; per-stage MACs of each variant`,
        yLabel: "share of the variant's multiply-adds",
        categories: doc.variants.map((v) => v.name),
        totals: doc.variants.map((v) => count(v.macs)),
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
    caption: () =>
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
            points: audited.map((v) => ({
              x: v.compound!.phi,
              y: v.compound!.macsRatio,
              label: v.name,
              tooltip: `${v.name}: φ = ${v.compound!.phi.toFixed(3)}, MACs ${ratio(v.compound!.macsRatio)} the baseline's (2^φ = ${ratio(v.compound!.lawRatio)})`,
            })),
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
