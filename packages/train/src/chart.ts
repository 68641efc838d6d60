/** Minimal, dependency-free SVG line charts for reports. */
export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Ticks on the x axis at whole numbers only (epochs). */
  xIntegers?: boolean;
  /** A linear y axis that starts at 0 (or below, for negative values). */
  yFromZero?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export const escapeXml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function ticks(min: number, max: number, count = 5, integers = false): number[] {
  if (min === max) return [min];
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const found = [1, 2, 5, 10].map((m) => m * step).find((s) => (max - min) / s <= count) ?? step * 10;
  const nice = integers ? Math.max(1, found) : found;
  const out: number[] = [];
  for (let t = Math.ceil(min / nice) * nice; t <= max + nice * 1e-9; t += nice)
    out.push(Number(t.toPrecision(12)));
  return out;
}

/**
 * One format for all of an axis's tick labels, with as many digits as the tick spacing needs:
 * fixed decimals (`0.000`, `0.025`, `0.050`), or scientific notation (`2.5e-4`) when the values
 * are all below 0.001 or reach 100 000.
 */
export function tickFormat(values: number[]): (v: number) => string {
  const finite = [...new Set(values.filter(Number.isFinite))].sort((a, b) => a - b);
  const largest = Math.max(0, ...finite.map(Math.abs));
  if (largest === 0) return () => '0';
  let spacing = Number.POSITIVE_INFINITY;
  for (let i = 1; i < finite.length; i++)
    spacing = Math.min(spacing, (finite[i] as number) - (finite[i - 1] as number));
  if (!Number.isFinite(spacing)) spacing = largest;
  const exponent = (v: number) => Math.floor(Math.log10(v) + 1e-9);
  if (largest < 1e-3 || largest >= 1e5) {
    const digits = Math.min(6, Math.max(0, exponent(largest) - exponent(spacing)));
    return (v) => (v === 0 ? '0' : v.toExponential(digits).replace('e+', 'e'));
  }
  const decimals = Math.min(10, Math.max(0, -exponent(spacing)));
  return (v) => v.toFixed(decimals);
}

/** Ticks of a log axis (in log10 units): decades over two or more, 1-2-5 steps over one, else plain. */
function logTicks(lo: number, hi: number): { at: number[]; label: (t: number) => string } {
  if (hi - lo >= 2) {
    const every = Math.max(1, Math.ceil((hi - lo) / 6));
    const at: number[] = [];
    for (let k = Math.ceil(lo - 1e-9); k <= hi + 1e-9; k += every) at.push(k);
    return { at, label: (t) => `1e${Math.round(t)}` };
  }
  const values =
    hi - lo >= 0.5
      ? Array.from({ length: Math.ceil(hi) - Math.floor(lo) + 1 }, (_, i) => Math.floor(lo) + i)
          .flatMap((k) => [1, 2, 5].map((m) => Number((m * 10 ** k).toPrecision(12))))
          .filter((v) => Math.log10(v) >= lo - 1e-9 && Math.log10(v) <= hi + 1e-9)
      : ticks(10 ** lo, 10 ** hi).filter((v) => v > 0);
  const format = tickFormat(values);
  return { at: values.map(Math.log10), label: (t) => format(Number((10 ** t).toPrecision(12))) };
}

export function lineChart(series: Series[], options: ChartOptions): string {
  const width = options.width ?? 600;
  const height = options.height ?? 360;
  const margin = { left: 70, right: 20, top: 34, bottom: 64 };
  const all = series
    .flatMap((s) => s.points)
    .filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0));
  const fy = (y: number) => (options.logY ? Math.log10(y) : y);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => fy(y));
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (options.yFromZero && !options.logY) y0 = Math.min(0, y0);
  if (!options.logY && y0 !== y1) {
    // Widen a linear y axis to the ticks around the data, so its top and bottom are labelled.
    const inner = ticks(y0, y1);
    const spacing = inner.length > 1 ? (inner[1] as number) - (inner[0] as number) : 0;
    if (spacing > 0) {
      y0 = Number((Math.floor(y0 / spacing + 1e-9) * spacing).toPrecision(12));
      y1 = Number((Math.ceil(y1 / spacing - 1e-9) * spacing).toPrecision(12));
    }
  }
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0 || 1)) * (width - margin.left - margin.right);
  const py = (y: number) =>
    height - margin.bottom - ((fy(y) - y0) / (y1 - y0)) * (height - margin.top - margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  const xTicks = ticks(x0, x1, 6, options.xIntegers);
  const xFormat = tickFormat(xTicks);
  for (const t of xTicks) {
    parts.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#eee"/>`,
    );
    parts.push(
      `<text class="x-tick" x="${px(t)}" y="${height - margin.bottom + 16}" text-anchor="middle">${xFormat(t)}</text>`,
    );
  }
  const linearY = ticks(y0, y1);
  const yTicks = options.logY ? logTicks(y0, y1) : { at: linearY, label: tickFormat(linearY) };
  for (const t of yTicks.at) {
    const value = options.logY ? 10 ** t : t;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${py(value)}" y2="${py(value)}" stroke="#eee"/>`,
    );
    parts.push(
      `<text class="y-tick" x="${margin.left - 6}" y="${py(value) + 4}" text-anchor="end">${yTicks.label(t)}</text>`,
    );
  }
  parts.push(
    `<text x="${width / 2}" y="${height - margin.bottom + 34}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.points.filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0));
    if (points.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const [x, y] of points.length <= 60 ? points : [])
      parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const lx = margin.left + i * 120;
    parts.push(`<rect x="${lx}" y="${height - 18}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${height - 9}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
