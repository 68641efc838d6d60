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
  /** Logarithmic y axis (learning rates). */
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export const escapeXml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function ticks(min: number, max: number, count = 5): number[] {
  if (min === max) return [min];
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (max - min) / s <= count) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(min / nice) * nice; t <= max + nice * 1e-9; t += nice)
    out.push(Number(t.toPrecision(12)));
  return out;
}

const format = (v: number) =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(1)
    : String(Number(v.toPrecision(3)));

export function lineChart(series: Series[], options: ChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 300;
  const margin = { left: 60, right: 16, top: 30, bottom: 60 };
  const all = series
    .flatMap((s) => s.points)
    .filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0));
  const fy = (y: number) => (options.logY ? Math.log10(y) : y);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => fy(y));
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0 || 1)) * (width - margin.left - margin.right);
  const py = (y: number) =>
    height - margin.bottom - ((fy(y) - y0) / (y1 - y0)) * (height - margin.top - margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(options.title)}</text>`,
  ];
  for (const t of ticks(x0, x1)) {
    parts.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${px(t)}" y="${height - margin.bottom + 14}" text-anchor="middle">${format(t)}</text>`,
    );
  }
  for (const t of ticks(y0, y1)) {
    const value = options.logY ? 10 ** t : t;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${py(value)}" y2="${py(value)}" stroke="#eee"/>`,
    );
    parts.push(`<text x="${margin.left - 6}" y="${py(value) + 4}" text-anchor="end">${format(value)}</text>`);
  }
  parts.push(
    `<text x="${width / 2}" y="${height - margin.bottom + 30}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
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
    const lx = margin.left + i * 110;
    parts.push(`<rect x="${lx}" y="${height - 18}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${height - 9}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
