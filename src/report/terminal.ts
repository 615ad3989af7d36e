import { formatBytes, formatCount, withCommas } from "../cost/units.ts";
import { fmt } from "../scaling/rounding.ts";
import type { AuditDocument, AuditVariant, Reported } from "./audit.ts";
import type { Block } from "./blocks.ts";
import { auditSections, gmacs, layerTable, stageTable, variantBlocks } from "./content.ts";
import { renderTable } from "./table.ts";

/** `effnet audit` in a terminal: the variant table, then each selected variant's stage table. */
export function renderAudit(
  doc: AuditDocument,
  options: { stages: boolean; layers: boolean; memory?: boolean },
): string {
  const net = doc.network;
  if (!net) return "";
  const out: string[] = [];
  out.push(`${net.name}  (${doc.source})`);
  out.push(
    `input ${net.input.height}×${net.input.width}×${net.input.channels}, ${net.classes} classes, ${net.activation}, SE ${net.squeezeExcite || "none"}`,
  );
  out.push(
    `convention ${net.convention.name}: padding ${net.convention.padding.split(":")[0]}, preprocessing ${net.convention.preprocessing.split(":")[0]}, batch norm momentum ${fmt(net.batchNorm.momentum)} epsilon ${fmt(net.batchNorm.epsilon)}, ${net.convention.classifier} out`,
  );
  const c = net.scaling.compound;
  if (c) {
    const k = c.constraint;
    out.push(
      `compound scaling α=${fmt(c.alpha)} β=${fmt(c.beta)} γ=${fmt(c.gamma)}${k ? `, ${k.expression} = ${fmt(k.value)} (target ${fmt(k.target)}${k.tolerance !== null ? ` ± ${fmt(k.tolerance)}` : ""})` : ""}`,
    );
  }
  out.push(
    `MACs = multiply-adds (the paper's "FLOPS"), FLOPs = 2 × MACs; params: trainable + non-trainable (BN moving statistics, stored input normalisation) = total`,
  );
  for (const block of variantBlocks(doc)) out.push(...renderBlockText(block));
  // The sections every format shares (src/report/content.ts); memory only when asked for (--batch).
  const sections = auditSections(doc);
  const memoryAt = sections.findIndex((b) => b.kind === "heading" && b.id === "memory-by-batch-size");
  const shown = options.memory || memoryAt < 0 ? sections : sections.slice(0, memoryAt);
  for (const block of shown) out.push(...renderBlockText(block));
  for (const v of options.stages ? doc.variants : []) out.push("", renderStages(v));
  for (const v of options.layers ? doc.variants : []) out.push("", renderLayers(v));
  return out.join("\n");
}

export function renderStages(v: AuditVariant): string {
  const total = `${withCommas(v.params.total)} params (${withCommas(v.params.trainable)} trainable), ${gmacs(v.macs)} MACs`;
  return [
    `${v.name}: width ${fmt(v.width)}, depth ${fmt(v.depth)}, resolution ${v.resolution} — ${total}`,
    ...renderBlockText(stageTable(v)),
  ]
    .join("\n")
    .trimEnd();
}

/** Like Keras's model.summary() or torchinfo, with MACs. */
export function renderLayers(v: AuditVariant): string {
  return [`${v.name}: layers`, ...layerTable(v).flatMap(renderBlockText)].join("\n").trimEnd();
}

/** A report block as terminal text: headings underlined, marks dropped, tables aligned; wide tables are left to the files. */
function renderBlockText(block: Block): string[] {
  const plain = (t: string) => t.replace(/\*\*([^*]+)\*\*/g, "$1");
  switch (block.kind) {
    case "heading":
      return ["", block.text, "═".repeat(block.text.length)];
    case "paragraph":
      return [plain(block.text)];
    case "list":
      return block.items.map((i) => `- ${plain(i)}`);
    case "table":
      return block.wide
        ? ["(The split of each contribution into rounding and coefficient is in `effnet report` and `--json`.)"]
        : ["", renderTable(block.columns, block.rows), ""];
    case "details":
      return block.blocks.flatMap(renderBlockText);
    case "figure":
      return [];
  }
}
