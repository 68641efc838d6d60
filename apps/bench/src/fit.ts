/** Least-squares line y = a + b·x. */
export function linearFit(points: [number, number][]): { a: number; b: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  const a = my - b * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { a, b, r2 };
}

/** Power law y = c·x^k, fitted on log-log axes. */
export function powerFit(points: [number, number][]): { c: number; k: number; r2: number } {
  const { a, b, r2 } = linearFit(points.map(([x, y]) => [Math.log(x), Math.log(y)]));
  return { c: Math.exp(a), k: b, r2 };
}
