import { describe, expect, it } from "vitest";
import { countUnit, paramsUnit } from "../../src/report/units.ts";

describe("column units", () => {
  it("MACs read in G from 10⁸, as papers print 0.39B", () => {
    const unit = countUnit([0.386e9, 0.099e9]);
    expect([unit.suffix, unit.show(0.386e9)]).toEqual(["G", "0.386"]);
  });

  it("parameters read in M up to 10⁹, as papers print RegNetY-128GF's 644.8M", () => {
    const unit = paramsUnit([644.8e6, 4.3e6]);
    expect([unit.suffix, unit.show(644.8e6), unit.show(4.3e6)]).toEqual(["M", "644.800", "4.300"]);
    expect(paramsUnit([1.2e9]).suffix).toBe("G");
  });
});
