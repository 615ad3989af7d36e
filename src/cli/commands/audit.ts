import { audit, costsAreSound, unreadableAudit } from "../../report/audit.ts";
import { renderJson } from "../../report/json.ts";
import { renderAudit } from "../../report/terminal.ts";
import { compileFile, EXIT, listOption, VARIANT_OPTIONS, type CommandDef } from "../command.ts";
import { auditOptions, MEMORY_OPTIONS } from "./report.ts";

export const auditCommand: CommandDef = {
  name: "audit",
  summary: "parameters, multiply-adds and memory of every variant, beside the paper's figures",
  usage: "effnet audit FILE [--variant NAME] [--stages] [--layers] [--batch N] [--json]",
  details:
    "Scales, lowers and costs each variant. The terminal view is a table of variants; --stages adds each variant's scaled stage table with the rounding behind every number, --layers a model.summary()-style layer table. --json prints one JSON document on stdout (diagnostics included), for machines.",
  positionals: { min: 1, max: 1 },
  options: {
    ...VARIANT_OPTIONS,
    json: { type: "boolean", description: "print one JSON document on stdout instead of tables" },
    stages: {
      type: "boolean",
      short: "s",
      description: "show each variant's scaled stage table (on by default with --variant)",
    },
    layers: { type: "boolean", short: "l", description: "show each variant's layer table" },
    ...MEMORY_OPTIONS,
  },
  examples: [
    "effnet audit specs/efficientnet.effnet",
    "effnet audit specs/efficientnet.effnet --variant B3 --layers",
    "effnet audit specs/efficientnet.effnet --json | jq '.variants[].macs'",
  ],
  run: async (inv) => {
    const variants = listOption(inv, "variant");
    const json = inv.options.json === true;
    const options = auditOptions(inv);
    const { compilation, diagnostics } = compileFile(
      inv.positionals[0],
      { variants, allowHuge: inv.options["allow-huge"] === true },
      inv.io,
    );
    if (!compilation) {
      if (json) inv.io.out(renderJson(unreadableAudit(inv.positionals[0], diagnostics, options)));
      return EXIT.errors;
    }
    const doc = audit(compilation, options);
    // renderJson validates the document against schema/audit.schema.json first.
    if (json) inv.io.out(renderJson(doc));
    else if (costsAreSound(compilation))
      inv.io.out(
        renderAudit(doc, {
          stages: inv.options.stages === true || variants.length > 0,
          layers: inv.options.layers === true,
          memory: options.batches !== undefined,
        }) + "\n",
      );
    return compilation.ok ? EXIT.ok : EXIT.errors;
  },
};
