import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { auditSchema, auditSchemaErrors, assertValidAudit } from "../../src/report/schema.ts";
import { renderJson } from "../../src/report/json.ts";
import { unreadableAudit } from "../../src/report/audit.ts";
import { diagnostic } from "../../src/diagnostics/diagnostic.ts";
import { auditPath, GOLDEN_SPEC, SHIPPED_SPECS } from "./helpers.ts";

/** Every JSON report against schema/audit.schema.json, and the schema's power to refuse bad data. */
const specs = [
  ...SHIPPED_SPECS,
  GOLDEN_SPEC,
  ...readdirSync("test/errors")
    .filter((f) => f.endsWith(".effnet"))
    .map((f) => `test/errors/${f}`),
];

describe("audit JSON schema", () => {
  it.each(specs)("%s: the document is valid", (path) => {
    const text = renderJson(auditPath(path, { batches: [1, 8, 32] }));
    expect(auditSchemaErrors(JSON.parse(text))).toEqual([]);
  });

  it("accepts the document of an unreadable file", () => {
    const doc = unreadableAudit("nope.effnet", [
      diagnostic("EFF0001", { path: "nope.effnet", reason: "no such file" }),
    ]);
    expect(auditSchemaErrors(JSON.parse(JSON.stringify(doc)))).toEqual([]);
  });

  const valid = () => JSON.parse(renderJson(auditPath(GOLDEN_SPEC))) as Record<string, any>;
  const mutations: [string, (d: Record<string, any>) => void][] = [
    ["a missing top-level field", (d) => delete d.variants],
    ["an unknown field", (d) => (d.variants[0].surprise = 1)],
    ["a negative count", (d) => (d.variants[0].macs = -1)],
    ["a fractional count", (d) => (d.variants[0].params.total = 1.5)],
    ["a NaN written as null", (d) => (d.variants[0].compound.deviation = null)],
    ["a string for a number", (d) => (d.variants[0].resolution = "224")],
    ["an unknown preset", (d) => (d.network.rounding.preset = "caffe")],
    [
      "a malformed diagnostic code",
      (d) =>
        d.diagnostics.push({
          code: "E1",
          severity: "error",
          message: "m",
          file: "f",
          line: null,
          column: null,
          help: null,
        }),
    ],
    ["a share above 1", (d) => (d.variants[0].stages[0].macsShare = 1.5)],
    ["a missing dimension in the compound audit", (d) => delete d.variants[1].compound.dimensions.width],
  ];
  it.each(mutations)("refuses %s", (_, mutate) => {
    const doc = valid();
    mutate(doc);
    expect(auditSchemaErrors(doc).length).toBeGreaterThan(0);
    expect(() => assertValidAudit(doc)).toThrow(/does not match schema/);
  });

  it("renderJson refuses a document its schema refuses (nothing is returned to write)", () => {
    const doc = auditPath(GOLDEN_SPEC);
    for (const bad of [Number.NaN, Infinity, undefined]) {
      const broken = { ...doc, variants: doc.variants.map((v) => ({ ...v, macs: bad as number })) };
      expect(() => renderJson(broken)).toThrow(/does not match schema/);
    }
  });

  it("describes every field (and so its unit)", () => {
    const schema = auditSchema() as Record<string, any>;
    const defs = schema.$defs as Record<string, any>;
    const described = (s: Record<string, any>): boolean =>
      typeof s.description === "string" ||
      (typeof s.$ref === "string" && typeof defs[s.$ref.replace("#/$defs/", "")]?.description === "string");
    const missing: string[] = [];
    const walk = (s: unknown, path: string) => {
      if (!s || typeof s !== "object") return;
      const node = s as Record<string, any>;
      for (const [name, prop] of Object.entries((node.properties ?? {}) as Record<string, any>)) {
        if (!described(prop)) missing.push(`${path}.${name}`);
        walk(prop, `${path}.${name}`);
      }
      for (const key of ["items", "oneOf", "prefixItems"]) {
        const child = node[key];
        if (Array.isArray(child)) child.forEach((c, i) => walk(c, `${path}.${key}[${i}]`));
        else walk(child, `${path}.${key}`);
      }
    };
    walk(schema, "");
    for (const [name, def] of Object.entries(defs)) walk(def, `$defs.${name}`);
    expect(missing).toEqual([]);
  });
});
