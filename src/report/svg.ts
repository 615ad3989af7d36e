/**
 * A small, dependency-free SVG chart generator for the reports: scatter/line charts on
 * linear or logarithmic axes and 100%-stacked bar charts. Output is deterministic
 * (coordinates rounded to 0.1 px, numbers formatted by the caller's functions), readable
 * without a stylesheet (fonts and colours inline) and self-contained (no scripts, no
 * external references), so one file opens anywhere and diffs cleanly.
 */
export type Scale = "linear" | "log10" | "log2";

export interface AxisSpec {
  readonly label: string;
  readonly scale: Scale;
  /** Tick label for a value on this axis. */
  readonly format: (value: number) => string;
  /** Force the domain to include these values (e.g. 0 on a linear axis). */
  readonly include?: readonly number[];
  /** Ticks at these values instead of the scale's own (categories at 1, 2, 3 …). */
  readonly ticks?: readonly number[];
}

export interface Point {
  readonly x: number;
  readonly y: number;
  readonly label?: string;
  /** The point's figures, shown on hover (an SVG <title>); the label when absent. */
  readonly tooltip?: string;
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
  readonly line?: "solid" | "dashed" | "none";
  readonly marker?: "dot" | "ring" | "none";
}

export interface LineChartSpec {
  /** Unique within a page: prefixes the SVG's ids. */
  readonly id: string;
  readonly title: string;
  readonly x: AxisSpec;
  readonly y: AxisSpec;
  readonly series: readonly Series[];
  /** Extra comment placed in the file, e.g. where the data come from. */
  readonly comment?: string;
}

export interface StackedBarSpec {
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  /** Label printed above each bar (e.g. its total). */
  readonly totals: readonly string[];
  readonly series: readonly { readonly name: string; readonly color: string; readonly values: readonly number[] }[];
  readonly comment?: string;
}

/** Categorical colours (Tableau 10): distinguishable, and printable in grey scale by lightness. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
] as const;

const WIDTH = 740;
const HEIGHT = 420;
const MARGIN = { top: 44, right: 210, bottom: 58, left: 78 };
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const INK = "#222";
const GRID = "#e3e3e3";

const n = (v: number) => {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? "0" : String(r);
};

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Text safe inside an XML/HTML comment (`<!-- … -->`): escaped, and without `--`, which
 * may not occur in a comment (XML 1.0 §2.5) and would let a path such as `a-->b` end it.
 * Every comment the report writers emit (SVG, HTML, the Markdown banner) goes through this.
 */
export function xmlComment(text: string): string {
  return `<!-- ${escapeXml(text).replace(/--/g, "—")} -->`;
}

const forward = (scale: Scale) => (scale === "log10" ? Math.log10 : scale === "log2" ? Math.log2 : (v: number) => v);

interface Domain {
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
}

/** Nice 1-2-5 step for a linear axis with about `count` intervals. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 5, 10].find((m) => m * power >= raw)!;
  return unit * power;
}

/** A value a `scale` axis can place: finite, and positive on a log axis (0 has no logarithm). */
export function drawable(value: number, scale: Scale): boolean {
  return Number.isFinite(value) && (scale === "linear" || value > 0);
}

/** The most ticks an axis gets; wider spans step over whole decades or powers of two. */
const MAX_TICKS = 12;

function domain(allValues: readonly number[], scale: Scale): Domain {
  // Zero-cost networks, φ far outside the data and overflowed counts must still draw a frame,
  // never loop: only values the scale can place count, and an empty axis gets a unit domain.
  const values = allValues.filter((v) => drawable(v, scale));
  if (values.length === 0)
    return scale === "linear" ? { min: 0, max: 1, ticks: [0, 1] } : { min: 1, max: 10, ticks: [1, 10] };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (scale === "linear") {
    const step = niceStep(hi - lo || Math.abs(hi) || 1, 6);
    const min = Math.floor(lo / step) * step;
    const max = Math.ceil(hi / step) * step === min ? min + step : Math.ceil(hi / step) * step;
    const ticks: number[] = [];
    for (let k = 0; min + k * step <= max + step / 1e6 && k <= MAX_TICKS; k++)
      ticks.push(Number((min + k * step).toPrecision(12)));
    return { min, max, ticks };
  }
  // Near the largest double the next power is past it (2^1024 and 10^309 are Infinity) and
  // near the smallest 10^e is 0: such ticks are dropped and the axis ends at the largest
  // double instead (found by the fuzz run: α = 1e308 put an "Infinity×" tick on the growth plot).
  if (scale === "log2") {
    // Math.log2 rounds the largest doubles' logarithm up to 1024 itself.
    const low = Math.min(Math.floor(Math.log2(lo)), 1023);
    const high = Math.max(Math.ceil(Math.log2(hi)), low + 1);
    const every = Math.ceil((high - low) / MAX_TICKS);
    const ticks: number[] = [];
    for (let e = low; e <= high; e += every) if (drawable(2 ** e, scale)) ticks.push(2 ** e);
    return { min: 2 ** low, max: drawable(2 ** high, scale) ? 2 ** high : Number.MAX_VALUE, ticks };
  }
  // log10: the 1-2-5 values of every decade the data touch, the domain snapped to them.
  const candidates: number[] = [];
  // Less than a decade of data gets every digit (2, 3, 4 …) so the axis still has a few ticks.
  // More decades than fit get their powers of ten only, every few decades.
  const [lowDecade, highDecade] = [Math.floor(Math.log10(lo)) - 1, Math.ceil(Math.log10(hi)) + 1];
  const decades = highDecade - lowDecade;
  const mantissas = hi / lo < 10 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : decades <= MAX_TICKS / 2 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil(decades / MAX_TICKS));
  for (let e = lowDecade; e <= highDecade; e += every)
    for (const m of mantissas) {
      const candidate = Number((m * 10 ** e).toPrecision(12));
      if (drawable(candidate, scale)) candidates.push(candidate);
    }
  const min = [...candidates].reverse().find((c) => c <= lo) ?? lo;
  const max = candidates.find((c) => c >= hi) ?? hi;
  const ticks = candidates.filter((c) => c >= min && c <= (max === min ? max * 2 : max));
  const top = max === min ? ticks[ticks.length - 1] : max;
  return { min, max: top > min ? top : Number.MAX_VALUE, ticks };
}

function frame(id: string, title: string, comment: string | undefined, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="${id}-title" font-family="${FONT}">`,
    `<title id="${id}-title">${escapeXml(title)}</title>`,
    ...(comment ? [xmlComment(comment)] : []),
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2 + MARGIN.left / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="${INK}">${escapeXml(title)}</text>`,
    ...body,
    `</svg>`,
  ].join("\n");
}

interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly line?: "solid" | "dashed" | "none";
  readonly marker?: "dot" | "ring" | "none" | "box";
}

function legend(entries: readonly LegendEntry[]): string[] {
  const x = WIDTH - MARGIN.right + 18;
  const out = [`<g font-size="11" fill="${INK}">`];
  entries.forEach((e, i) => {
    const y = MARGIN.top + 8 + i * 18;
    if (e.marker === "box") out.push(`<rect x="${x}" y="${y - 6}" width="14" height="11" fill="${e.color}"/>`);
    if (e.line && e.line !== "none")
      out.push(
        `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${e.color}" stroke-width="2"${e.line === "dashed" ? ' stroke-dasharray="5 3"' : ""}/>`,
      );
    if (e.marker === "dot") out.push(`<circle cx="${x + 11}" cy="${y}" r="4" fill="${e.color}"/>`);
    if (e.marker === "ring")
      out.push(`<circle cx="${x + 11}" cy="${y}" r="4" fill="#fff" stroke="${e.color}" stroke-width="1.5"/>`);
    out.push(`<text x="${x + 28}" y="${y + 4}">${escapeXml(e.name)}</text>`);
  });
  out.push("</g>");
  return out;
}

/** A scatter/line chart: Figure 1's shape (cost against size), growth curves. */
export function lineChart(spec: LineChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  // Given ticks (categories) span the axis exactly, with the included values as its margins.
  const withTicks = (d: Domain, axis: AxisSpec): Domain => {
    const given = axis.ticks?.filter((t) => drawable(t, axis.scale)) ?? [];
    if (given.length === 0) return d;
    const ends = [...given, ...(axis.include ?? [])].filter((t) => drawable(t, axis.scale));
    const [min, max] = [Math.min(...ends), Math.max(...ends)];
    return min < max ? { min, max, ticks: given } : d;
  };
  const xd = withTicks(domain([...all.map((p) => p.x), ...(spec.x.include ?? [])], spec.x.scale), spec.x);
  const yd = withTicks(domain([...all.map((p) => p.y), ...(spec.y.include ?? [])], spec.y.scale), spec.y);
  const fx = forward(spec.x.scale);
  const fy = forward(spec.y.scale);
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const px = (v: number) => left + ((fx(v) - fx(xd.min)) / (fx(xd.max) - fx(xd.min))) * (right - left);
  const py = (v: number) => bottom - ((fy(v) - fy(yd.min)) / (fy(yd.max) - fy(yd.min))) * (bottom - top);
  const body: string[] = [];
  body.push(`<g stroke="${GRID}" stroke-width="1">`);
  for (const t of xd.ticks) body.push(`<line x1="${n(px(t))}" y1="${top}" x2="${n(px(t))}" y2="${bottom}"/>`);
  for (const t of yd.ticks) body.push(`<line x1="${left}" y1="${n(py(t))}" x2="${right}" y2="${n(py(t))}"/>`);
  body.push("</g>");
  body.push(
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="${INK}"/>`,
  );
  body.push(`<g font-size="11" fill="${INK}">`);
  for (const t of xd.ticks)
    body.push(`<text x="${n(px(t))}" y="${bottom + 16}" text-anchor="middle">${escapeXml(spec.x.format(t))}</text>`);
  for (const t of yd.ticks)
    body.push(`<text x="${left - 6}" y="${n(py(t) + 4)}" text-anchor="end">${escapeXml(spec.y.format(t))}</text>`);
  body.push("</g>");
  body.push(
    `<text x="${(left + right) / 2}" y="${HEIGHT - 16}" text-anchor="middle" font-size="12" fill="${INK}">${escapeXml(spec.x.label)}</text>`,
  );
  body.push(
    `<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${INK}">${escapeXml(spec.y.label)}</text>`,
  );
  const plotted = spec.series.map((series) => ({
    ...series,
    points: series.points.filter((p) => drawable(p.x, spec.x.scale) && drawable(p.y, spec.y.scale)),
  }));
  const labels: LabelRequest[] = [];
  for (const s of plotted) {
    const pts = s.points.map((p) => `${n(px(p.x))},${n(py(p.y))}`).join(" ");
    if ((s.line ?? "solid") !== "none" && s.points.length > 1) {
      body.push(
        `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.line === "dashed" ? ' stroke-dasharray="6 4"' : ""}/>`,
      );
    }
    for (const p of s.points) {
      const tip = p.tooltip ?? p.label;
      const title = tip ? `<title>${escapeXml(tip)}</title>` : "";
      if (s.marker === "dot")
        body.push(`<circle cx="${n(px(p.x))}" cy="${n(py(p.y))}" r="4" fill="${s.color}">${title}</circle>`);
      if (s.marker === "ring")
        body.push(
          `<circle cx="${n(px(p.x))}" cy="${n(py(p.y))}" r="4.5" fill="#fff" stroke="${s.color}" stroke-width="1.5">${title}</circle>`,
        );
      if (p.label) labels.push({ x: px(p.x), y: py(p.y), text: p.label, color: s.color, tooltip: tip! });
    }
  }
  const markers = plotted.flatMap((s) =>
    s.marker && s.marker !== "none" ? s.points.map((p) => ({ x: px(p.x), y: py(p.y) })) : [],
  );
  for (const l of placeLabels(labels, markers, { left, top, right, bottom }))
    body.push(
      `<text class="point-label" x="${n(l.x)}" y="${n(l.y + LABEL_ASCENT)}" font-size="${LABEL_FONT}" fill="${l.color}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(l.text)}<title>${escapeXml(l.tooltip)}</title></text>`,
    );
  body.push(
    ...legend(
      spec.series.map((s) => ({
        name: s.name,
        color: s.color,
        line: s.points.length > 1 ? (s.line ?? "solid") : "none",
        marker: s.marker ?? "none",
      })),
    ),
  );
  return frame(spec.id, spec.title, spec.comment, body);
}

/** A rectangle in SVG pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

interface LabelRequest {
  readonly x: number;
  readonly y: number;
  readonly text: string;
  readonly color: string;
  readonly tooltip: string;
}

export const LABEL_FONT = 11;
/** Baseline below the box's top edge. */
const LABEL_ASCENT = 9;
const LABEL_HEIGHT = 12;
/** A generous per-character advance for DejaVu Sans at 11 px (its widest capitals are 0.77 em, digits 0.64 em). */
const LABEL_ADVANCE = 0.72 * LABEL_FONT;

/** The box a point label takes, from its text (left edge x, top edge y): what placement keeps apart. */
export function labelBox(x: number, y: number, text: string): Box {
  return { x, y, width: [...text].length * LABEL_ADVANCE, height: LABEL_HEIGHT };
}

export const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (a: Box, f: { left: number; top: number; right: number; bottom: number }) =>
  a.x >= f.left + 1 && a.y >= f.top + 1 && a.x + a.width <= f.right - 1 && a.y + a.height <= f.bottom - 1;

/**
 * Point labels that never overlap each other or a marker and never leave the plot frame:
 * each label, in order, takes the first free place among positions around its point
 * (right, left, above, below, then the diagonals, then the same farther out); a label with
 * no free place is left out, its point keeping the tooltip. Greedy placement of this kind
 * is the classic fixed-candidate model of map labelling (Christensen, Marks and Shieber
 * 1995, "An empirical study of algorithms for point-feature label placement").
 */
export function placeLabels<T extends { x: number; y: number; text: string }>(
  labels: readonly T[],
  markers: readonly { x: number; y: number }[],
  frame: { left: number; top: number; right: number; bottom: number },
): (T & Box)[] {
  const taken: Box[] = markers.map((m) => ({ x: m.x - 5, y: m.y - 5, width: 10, height: 10 }));
  const placed: (T & Box)[] = [];
  for (const label of labels) {
    const { width, height } = labelBox(0, 0, label.text);
    const candidates: [number, number][] = [];
    for (const d of [7, 16, 28]) {
      candidates.push(
        [label.x + d, label.y - height / 2],
        [label.x - d - width, label.y - height / 2],
        [label.x - width / 2, label.y - d - height],
        [label.x - width / 2, label.y + d],
        [label.x + d * 0.7, label.y - d * 0.7 - height],
        [label.x - d * 0.7 - width, label.y - d * 0.7 - height],
        [label.x + d * 0.7, label.y + d * 0.7],
        [label.x - d * 0.7 - width, label.y + d * 0.7],
      );
    }
    const spot = candidates
      .map(([x, y]) => ({ x, y, width, height }))
      .find((box) => inside(box, frame) && !taken.some((t) => intersects(t, box)));
    if (!spot) continue;
    taken.push(spot);
    placed.push({ ...label, ...spot });
  }
  return placed;
}

/** 100%-stacked bars: each category's parts as shares of its total, the total printed above. */
export function stackedBarChart(spec: StackedBarSpec): string {
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top + 14;
  const bottom = HEIGHT - MARGIN.bottom;
  const band = (right - left) / Math.max(1, spec.categories.length);
  const barWidth = Math.min(48, band * 0.7);
  const py = (share: number) => bottom - share * (bottom - top);
  const body: string[] = [];
  body.push(`<g stroke="${GRID}" stroke-width="1">`);
  for (let t = 0; t <= 100; t += 20)
    body.push(`<line x1="${left}" y1="${n(py(t / 100))}" x2="${right}" y2="${n(py(t / 100))}"/>`);
  body.push("</g>");
  body.push(`<g font-size="11" fill="${INK}">`);
  for (let t = 0; t <= 100; t += 20)
    body.push(`<text x="${left - 6}" y="${n(py(t / 100) + 4)}" text-anchor="end">${t}%</text>`);
  body.push("</g>");
  spec.categories.forEach((category, i) => {
    const total = spec.series.reduce((s, series) => s + series.values[i], 0);
    const x = left + band * i + (band - barWidth) / 2;
    let acc = 0;
    for (const series of spec.series) {
      const share = total ? series.values[i] / total : 0;
      if (share > 0)
        body.push(
          `<rect x="${n(x)}" y="${n(py(acc + share))}" width="${n(barWidth)}" height="${n(py(acc) - py(acc + share))}" fill="${series.color}"><title>${escapeXml(`${category}, ${series.name}: ${(share * 100).toFixed(1)}%`)}</title></rect>`,
        );
      acc += share;
    }
    body.push(
      `<text x="${n(x + barWidth / 2)}" y="${bottom + 16}" text-anchor="middle" font-size="11" fill="${INK}">${escapeXml(category)}</text>`,
    );
    body.push(
      `<text x="${n(x + barWidth / 2)}" y="${n(top - 6)}" text-anchor="middle" font-size="10" fill="${INK}">${escapeXml(spec.totals[i])}</text>`,
    );
  });
  body.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${INK}"/>`);
  body.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="${INK}"/>`);
  body.push(
    `<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${INK}">${escapeXml(spec.yLabel)}</text>`,
  );
  body.push(...legend(spec.series.map((s) => ({ name: s.name, color: s.color, marker: "box" as const }))));
  return frame(spec.id, spec.title, spec.comment, body);
}
