/** Human units for counts (decimal, as papers print them) and bytes (binary). */
export function formatCount(n: number, digits = 3): string {
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, unit] of units) if (Math.abs(n) >= size) return `${trim((n / size).toFixed(digits))}${unit}`;
  return String(n);
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** 5288548 → 5,288,548. */
export function withCommas(n: number): string {
  return n.toLocaleString("en-US");
}

function trim(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}
