import { formatCount, withCommas } from "../cost/units.ts";

/**
 * One unit per column: a column of counts or bytes is printed in the unit its largest
 * value needs, named once in the header (`MACs (G)`), with the same number of decimals in
 * every cell, so "17.618M" and "0.152 G" never share a column and the digits line up.
 */
export interface ColumnUnit {
  /** The unit for the header: "G", "M", "MiB"; "" for plain counts. */
  readonly suffix: string;
  readonly show: (value: number) => string;
}

const COUNT_PREFIXES: readonly [number, string][] = [
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "K"],
];

/**
 * Decimal prefixes as papers print counts; 3 decimals (0.386 G), or exact integers below a
 * thousand. `gigaFrom`: papers print ImageNet-scale MACs in G even below 1 G (0.39B), so for
 * them 10⁸ and up reads in G; parameters read in M up to 10⁹ (RegNetY-128GF's 644.8M): see paramsUnit.
 */
export function countUnit(values: readonly number[], gigaFrom = 1e8): ColumnUnit {
  const finite = values.filter(Number.isFinite).map(Math.abs);
  const max = finite.length ? Math.max(...finite) : 0;
  const [size, suffix] = COUNT_PREFIXES.find(([s]) => max >= (s === 1e9 ? gigaFrom : s)) ?? [1, ""];
  return {
    suffix,
    show: (v) => (!Number.isFinite(v) ? "∞" : size === 1 ? withCommas(v) : (v / size).toFixed(3)),
  };
}

/** countUnit for parameter counts: G only from 10⁹. */
export const paramsUnit = (values: readonly number[]): ColumnUnit => countUnit(values, 1e9);

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/**
 * Binary prefixes for memory (KiB = 2¹⁰ bytes), in the unit of the column's largest value,
 * with as many decimals (1 to 3) as its smallest nonzero value needs for two significant
 * digits: batch 1's 0.087 GiB beside batch 32's 2.4 GiB, not 0.1.
 */
export function bytesUnit(values: readonly number[]): ColumnUnit {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  const max = finite.length ? Math.max(...finite) : 0;
  let i = 0;
  while (max >= 1024 ** (i + 1) && i < BYTE_UNITS.length - 1) i++;
  const size = 1024 ** i;
  const min = finite.length ? Math.min(...finite) / size : 1;
  const decimals = Math.min(3, Math.max(1, 1 - Math.floor(Math.log10(min))));
  return {
    suffix: BYTE_UNITS[i],
    show: (v) => (!Number.isFinite(v) ? "∞" : i === 0 ? String(v) : (v / size).toFixed(decimals)),
  };
}

/** MACs in prose: G with 3 decimals, as papers print ImageNet-sized networks (0.386 G); small networks in their own unit (2.022M). */
export const gmacs = (n: number) => (n >= 1e8 ? `${(n / 1e9).toFixed(3)} G` : formatCount(n));
export const signedPercent = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}%`;
/** Doublings (log₂ units), signed, 3 decimals: +0.474. */
export const doublings = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`;
export const ratio = (x: number) => `${x.toFixed(2)}×`;
