import { withCommas } from "../cost/units.ts";
import { fmt } from "../vocabulary/rounding.ts";
import type { AuditDocument, AuditVariant } from "./audit.ts";
import type { Block } from "./blocks.ts";
import { auditSections, layerTable, stageTable, variantBlocks } from "./content.ts";
import type { SummaryOptions } from "./summary.ts";
import { DEFAULT_WIDTH, renderTable, wrap } from "./table.ts";
import { gmacs } from "./units.ts";

export interface TerminalOptions {
  readonly stages: boolean;
  readonly layers: boolean;
  /** Show the memory-by-batch section (asked for with --batch). */
  readonly memory?: boolean;
  /**
   * Show every section even where it says little: the compound-scaling audit and the
   * rounding presets for a chosen variant, the presets where no variant's shape differs.
   */
  readonly all?: boolean;
  /** Variants were picked with --variant: the sections about the whole family are left out unless `all`. */
  readonly selected?: boolean;
  /** Columns to fit into; DEFAULT_WIDTH when absent. */
  readonly width?: number;
  readonly summary?: SummaryOptions;
}

/** Headings of the sections about the whole family (src/report/content.ts). */
const FAMILY_SECTIONS = new Set(["compound-scaling", "rounding-presets"]);

/** `effnet audit` in a terminal: the variant table, then each selected variant's stage table; every line fits `width`. */
export function renderAudit(doc: AuditDocument, options: TerminalOptions): string {
  const net = doc.network;
  if (!net) return "";
  const width = options.width ?? DEFAULT_WIDTH;
  const out: string[] = [];
  const prose = (text: string) => out.push(...wrap(text, width));
  prose(`${net.name}  (${doc.source})`);
  prose(
    `input ${net.input.height}×${net.input.width}×${net.input.channels}, ${net.classes} classes, ${net.activation}, SE ${net.squeezeExcite || "none"}`,
  );
  prose(
    `convention ${net.convention.name}: padding ${net.convention.padding.split(":")[0]}, preprocessing ${net.convention.preprocessing.split(":")[0]}, batch norm momentum ${fmt(net.batchNorm.momentum)} epsilon ${fmt(net.batchNorm.epsilon)}, ${net.convention.classifier} out`,
  );
  const c = net.scaling.compound;
  if (c) {
    const k = c.constraint;
    prose(
      `compound scaling α=${fmt(c.alpha)} β=${fmt(c.beta)} γ=${fmt(c.gamma)}${k ? `, ${k.expression} = ${fmt(k.value)} (target ${fmt(k.target)}${k.tolerance !== null ? ` ± ${fmt(k.tolerance)}` : ""})` : ""}`,
    );
  }
  prose(
    `MACs = multiply-adds (the paper's "FLOPS"), FLOPs = 2 × MACs; params: trainable + non-trainable (BN moving statistics, stored input normalisation) = total`,
  );
  for (const block of variantBlocks(doc)) out.push(...renderBlockText(block, width));
  for (const block of shownSections(doc, options)) out.push(...renderBlockText(block, width));
  for (const v of options.stages ? doc.variants : []) out.push("", renderStages(v, width));
  for (const v of options.layers ? doc.variants : []) out.push("", renderLayers(v, width, options.summary));
  return out.join("\n");
}

/**
 * The shared sections (src/report/content.ts) that say something here: memory only when
 * asked for (--batch); the family's compound scaling and presets not for a chosen
 * variant; the presets not when every variant has the same shape under each; all with `all`.
 */
function shownSections(doc: AuditDocument, options: TerminalOptions): Block[] {
  const sections: Block[][] = [];
  for (const block of auditSections(doc)) {
    if (block.kind === "heading" && block.level === 2) sections.push([]);
    sections[sections.length - 1]?.push(block);
  }
  const id = (s: Block[]) => (s[0].kind === "heading" ? s[0].id : "");
  const presetsDiffer = doc.variants.some((v) => v.roundingPresets.some((r) => !r.sameShape));
  return sections
    .filter((s) => {
      if (id(s) === "memory-by-batch-size") return options.memory === true;
      if (options.all) return true;
      if (options.selected && FAMILY_SECTIONS.has(id(s))) return false;
      return id(s) !== "rounding-presets" || presetsDiffer;
    })
    .flat();
}

export function renderStages(v: AuditVariant, width = DEFAULT_WIDTH): string {
  const total = `${withCommas(v.params.total)} params (${withCommas(v.params.trainable)} trainable), ${gmacs(v.macs)} MACs`;
  return [
    ...wrap(`${v.name}: width ${fmt(v.width)}, depth ${fmt(v.depth)}, resolution ${v.resolution} — ${total}`, width),
    ...renderBlockText(stageTable(v), width),
  ]
    .join("\n")
    .trimEnd();
}

/** The layer summary (src/report/summary.ts): stage → block → layer, like torchinfo's. */
export function renderLayers(v: AuditVariant, width = DEFAULT_WIDTH, options: SummaryOptions = {}): string {
  return [`${v.name}: layers`, ...layerTable(v, options).flatMap((b) => renderBlockText(b, width))]
    .join("\n")
    .trimEnd();
}

/** A report block as terminal text, `width` columns at most: headings underlined, marks dropped, prose wrapped, tables fitted. */
function renderBlockText(block: Block, width: number): string[] {
  const plain = (t: string) => t.replace(/\*\*([^*]+)\*\*/g, "$1");
  switch (block.kind) {
    case "heading": {
      const lines = wrap(block.text, width);
      return ["", ...lines, "═".repeat(Math.min(width, Math.max(...lines.map((l) => [...l].length))))];
    }
    case "paragraph":
      return wrap(plain(block.text), width);
    case "list":
      return block.items.flatMap((i) => wrap(plain(i), width, "- ", "  "));
    case "table":
      return block.wide
        ? wrap(
            "(The split of each contribution into rounding and coefficient is in `effnet report` and `--json`.)",
            width,
          )
        : ["", renderTable(block.columns, block.rows, "", width), ""];
    case "details":
      return block.blocks.flatMap((b) => renderBlockText(b, width));
    case "contents":
    case "figure":
      return [];
  }
}
