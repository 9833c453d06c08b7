import type { PairsResult } from './pairs.js';
import type { BonResult } from './bon.js';
import type { StrengthResult } from './strength.js';
import type { PreferencesResult } from './preferences.js';
import type { EpicResult } from './epic.js';
import type { HackingResult } from './hacking.js';
import type { DownstreamResult } from './downstream.js';
import type { SycophancyResult } from './sycophancy.js';
import type { HistogramBin } from './stats.js';

/**
 * Self-contained HTML reports for `rewardkit eval … --report FILE.html`: one file, no network, no
 * script — charts are inline SVG generated here, tables are plain HTML, and the full JSON result is
 * embedded (`<script type="application/json" id="rewardkit-result">`, inert data) for anyone who wants
 * the numbers. `<meta name="rewardkit-charts">` lists the charts the page holds.
 */

export type EvalResult = PairsResult | BonResult | StrengthResult | PreferencesResult | EpicResult | HackingResult | DownstreamResult | SycophancyResult;

const PALETTE = ['#4269d0', '#ff725c', '#3ca951', '#efb118', '#a463f2', '#6cc5b0', '#ff8ab7', '#97bbf5'];

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Short number for labels: 3 significant decimals, exponent for very large/small, `–` for null. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(2);
  return x.toFixed(digits);
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function scale(d0: number, d1: number, r0: number, r1: number): (x: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}

function figure(id: string, title: string, svg: string, note?: string): string {
  return `<figure class="chart" data-chart="${esc(id)}"><figcaption>${esc(title)}</figcaption>${svg}${note ? `<p class="note">${esc(note)}</p>` : ''}</figure>`;
}

function svgOpen(w: number, h: number, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(label)}">`;
}

function axisY(y: (v: number) => number, ticks: number[], x0: number, x1: number, label?: string, top = 0, bottom = 0): string {
  let s = '';
  for (const t of ticks) {
    const yy = y(t).toFixed(1);
    s += `<line class="grid" x1="${x0}" x2="${x1}" y1="${yy}" y2="${yy}"/><text class="tick" x="${x0 - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${esc(tickLabel(t))}</text>`;
  }
  if (label) s += `<text class="axis-label" transform="translate(12 ${((top + bottom) / 2).toFixed(1)}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`;
  return s;
}

function axisX(x: (v: number) => number, ticks: number[], y0: number, label?: string, left = 0, right = 0, fmtTick: (v: number) => string = tickLabel): string {
  let s = `<line class="axis" x1="${left}" x2="${right}" y1="${y0}" y2="${y0}"/>`;
  for (const t of ticks) {
    const xx = x(t).toFixed(1);
    s += `<line class="axis" x1="${xx}" x2="${xx}" y1="${y0}" y2="${y0 + 4}"/><text class="tick" x="${xx}" y="${y0 + 16}" text-anchor="middle">${esc(fmtTick(t))}</text>`;
  }
  if (label) s += `<text class="axis-label" x="${((left + right) / 2).toFixed(1)}" y="${y0 + 34}" text-anchor="middle">${esc(label)}</text>`;
  return s;
}

/** Horizontal bars (one row per label) with optional interval whiskers and reference lines. */
export function barChart(o: {
  id: string;
  title: string;
  labels: string[];
  values: (number | null)[];
  lo?: (number | null)[];
  hi?: (number | null)[];
  domain?: [number, number];
  xLabel?: string;
  refs?: { x: number; label: string }[];
  note?: string;
  counts?: (number | null)[];
}): string {
  const rowH = 22;
  const labelW = Math.min(220, 12 + 7 * Math.max(4, ...o.labels.map((l) => l.length)));
  const W = 720;
  const top = o.refs?.length ? 22 : 10;
  const H = top + rowH * o.labels.length + 48;
  const x1 = W - 70;
  const vals = [...o.values, ...(o.lo ?? []), ...(o.hi ?? []), ...(o.refs ?? []).map((r) => r.x)].filter((v): v is number => v !== null && Number.isFinite(v));
  const domain = o.domain ?? [Math.min(0, ...vals), Math.max(0, ...vals, 1e-12)];
  const x = scale(domain[0], domain[1], labelW, x1);
  const y0 = top + rowH * o.labels.length;
  let s = svgOpen(W, H, o.title);
  const ticks = niceTicks(domain[0], domain[1], 5);
  for (const t of ticks) s += `<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${y0}"/>`;
  s += axisX(x, ticks, y0, o.xLabel, labelW, x1);
  const zero = x(Math.max(domain[0], Math.min(domain[1], 0)));
  o.labels.forEach((label, i) => {
    const v = o.values[i];
    const yy = top + i * rowH;
    s += `<text class="label" x="${labelW - 8}" y="${(yy + rowH / 2).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${esc(label.length > 30 ? label.slice(0, 29) + '…' : label)}</text>`;
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    const xv = x(Math.max(domain[0], Math.min(domain[1], v)));
    const bx = Math.min(zero, xv);
    s += `<rect class="bar" x="${bx.toFixed(1)}" y="${(yy + 4).toFixed(1)}" width="${Math.max(1, Math.abs(xv - zero)).toFixed(1)}" height="${rowH - 8}" fill="${PALETTE[0]}"><title>${esc(`${label}: ${fmt(v)}${o.counts?.[i] != null ? ` (n = ${o.counts[i]})` : ''}`)}</title></rect>`;
    const lo = o.lo?.[i];
    const hi = o.hi?.[i];
    if (lo != null && hi != null && Number.isFinite(lo) && Number.isFinite(hi)) {
      const a = x(Math.max(domain[0], lo)).toFixed(1);
      const b = x(Math.min(domain[1], hi)).toFixed(1);
      const ym = (yy + rowH / 2).toFixed(1);
      s += `<path class="whisker" d="M${a},${ym}H${b}M${a},${yy + 7}V${yy + rowH - 7}M${b},${yy + 7}V${yy + rowH - 7}"/>`;
    }
    s += `<text class="value" x="${x1 + 6}" y="${(yy + rowH / 2).toFixed(1)}" dominant-baseline="middle">${esc(fmt(v))}</text>`;
  });
  for (const r of o.refs ?? []) {
    const xr = x(r.x).toFixed(1);
    s += `<line class="ref" x1="${xr}" x2="${xr}" y1="${top - 4}" y2="${y0}"/><text class="ref-label" x="${xr}" y="${top - 8}" text-anchor="middle">${esc(r.label)}</text>`;
  }
  return figure(o.id, o.title, s + '</svg>', o.note);
}

/** Lines over a shared x axis, with optional bands (lo/hi), a diagonal and point markers. */
export function lineChart(o: {
  id: string;
  title: string;
  series: { name: string; points: { x: number; y: number | null; lo?: number | null; hi?: number | null; size?: number }[] }[];
  xLabel: string;
  yLabel: string;
  xDomain?: [number, number];
  yDomain?: [number, number];
  diagonal?: boolean;
  logX?: boolean;
  markers?: { x: number; label: string }[];
  note?: string;
}): string {
  const W = 720;
  const H = 340;
  const left = 64;
  const right = W - 20;
  const top = 16;
  const bottom = H - 56;
  const tx = (v: number) => (o.logX ? Math.log2(v) : v);
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x)).filter((v) => Number.isFinite(v));
  const ys = o.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.lo, p.hi])).filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  if (xs.length === 0) xs.push(0, 1);
  if (ys.length === 0) ys.push(0, 1);
  const xd = o.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  let yd = o.yDomain ?? [Math.min(...ys), Math.max(...ys)];
  if (!(yd[1] > yd[0])) yd = [yd[0] - 1, yd[0] + 1];
  const pad = o.yDomain ? 0 : (yd[1] - yd[0]) * 0.06;
  yd = [yd[0] - pad, yd[1] + pad];
  const x = scale(tx(xd[0]), tx(xd[1] === xd[0] ? xd[0] + 1 : xd[1]), left, right);
  const X = (v: number) => x(tx(v));
  const y = scale(yd[0], yd[1], bottom, top);
  let s = svgOpen(W, H, o.title);
  s += axisY(y, niceTicks(yd[0], yd[1], 5), left, right, o.yLabel, top, bottom);
  const xt = o.logX ? niceLog2Ticks(xd[0], xd[1]) : niceTicks(xd[0], xd[1], 8).filter((t) => t >= xd[0] && t <= xd[1]);
  s += axisX(X, xt, bottom, o.xLabel, left, right);
  if (o.diagonal) s += `<line class="ref" x1="${X(xd[0]).toFixed(1)}" y1="${y(xd[0]).toFixed(1)}" x2="${X(xd[1]).toFixed(1)}" y2="${y(xd[1]).toFixed(1)}"/>`;
  o.series.forEach((se, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const pts = se.points.filter((p) => p.y !== null && Number.isFinite(p.y));
    const band = pts.filter((p) => p.lo != null && p.hi != null && Number.isFinite(p.lo) && Number.isFinite(p.hi));
    if (band.length > 1) {
      const d = band.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${y(p.hi!).toFixed(1)}`).join('') + band.reverse().map((p) => `L${X(p.x).toFixed(1)},${y(p.lo!).toFixed(1)}`).join('') + 'Z';
      s += `<path class="band" d="${d}" fill="${color}"/>`;
    }
    if (pts.length > 1) s += `<path class="line" d="${pts.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${y(p.y!).toFixed(1)}`).join('')}" stroke="${color}"/>`;
    for (const p of pts) {
      const r = p.size !== undefined ? Math.max(2, Math.min(9, p.size)) : 3;
      s += `<circle class="dot" cx="${X(p.x).toFixed(1)}" cy="${y(p.y!).toFixed(1)}" r="${r.toFixed(1)}" fill="${color}"><title>${esc(`${se.name}: x = ${fmt(p.x)}, y = ${fmt(p.y)}`)}</title></circle>`;
    }
  });
  for (const m of o.markers ?? []) {
    const xm = X(m.x).toFixed(1);
    s += `<line class="ref" x1="${xm}" x2="${xm}" y1="${top}" y2="${bottom}"/><text class="ref-label" x="${xm}" y="${top + 10}" dx="4">${esc(m.label)}</text>`;
  }
  if (o.series.length > 1) {
    o.series.forEach((se, k) => {
      s += `<rect x="${left + 10 + k * 170}" y="${H - 14}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text class="legend" x="${left + 24 + k * 170}" y="${H - 5}">${esc(se.name)}</text>`;
    });
  }
  return figure(o.id, o.title, s + '</svg>', o.note);
}

function niceLog2Ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let v = 1; v <= hi * 1.0001; v *= 2) if (v >= lo) out.push(v);
  return out;
}

/** A histogram of pre-binned counts, with an optional marker line (e.g. at 0). */
export function histogramChart(o: { id: string; title: string; bins: HistogramBin[]; xLabel: string; marker?: { x: number; label: string }; note?: string }): string {
  const W = 720;
  const H = 300;
  const left = 64;
  const right = W - 20;
  const top = 16;
  const bottom = H - 50;
  let s = svgOpen(W, H, o.title);
  if (o.bins.length === 0) return figure(o.id, o.title, s + `<text class="label" x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text></svg>`, o.note);
  const lo = o.bins[0]!.lo;
  let hi = o.bins[o.bins.length - 1]!.hi;
  if (hi === lo) hi = lo + 1;
  const maxC = Math.max(1, ...o.bins.map((b) => b.count));
  const x = scale(lo, hi, left, right);
  const y = scale(0, maxC, bottom, top);
  s += axisY(y, niceTicks(0, maxC, 4), left, right, 'count', top, bottom);
  s += axisX(x, niceTicks(lo, hi, 7).filter((t) => t >= lo && t <= hi), bottom, o.xLabel, left, right);
  const single = o.bins.length === 1;
  for (const b of o.bins) {
    const x0 = single ? left + (right - left) * 0.4 : x(b.lo);
    const x1 = single ? left + (right - left) * 0.6 : x(b.hi);
    s += `<rect class="bar" x="${(x0 + 0.5).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${Math.max(1, x1 - x0 - 1).toFixed(1)}" height="${(bottom - y(b.count)).toFixed(1)}" fill="${PALETTE[0]}"><title>${esc(`[${fmt(b.lo)}, ${fmt(b.hi)}): ${b.count}`)}</title></rect>`;
  }
  if (o.marker && o.marker.x >= lo && o.marker.x <= hi) {
    const xm = x(o.marker.x).toFixed(1);
    s += `<line class="ref" x1="${xm}" x2="${xm}" y1="${top}" y2="${bottom}"/><text class="ref-label" x="${xm}" y="${top + 10}" dx="4">${esc(o.marker.label)}</text>`;
  }
  return figure(o.id, o.title, s + '</svg>', o.note);
}

function mix(a: string, b: string, t: number): string {
  const pa = [1, 3, 5].map((i) => parseInt(a.slice(i, i + 2), 16));
  const pb = [1, 3, 5].map((i) => parseInt(b.slice(i, i + 2), 16));
  return '#' + pa.map((v, i) => Math.round(v + (pb[i]! - v) * Math.max(0, Math.min(1, t))).toString(16).padStart(2, '0')).join('');
}

/** A labelled heat map of a square matrix; `diverging` centres the colour scale on the domain's middle. */
export function heatmap(o: { id: string; title: string; labels: string[]; matrix: (number | null)[][]; domain: [number, number]; diverging?: boolean; note?: string }): string {
  const n = o.labels.length;
  const labelW = Math.min(200, 12 + 7 * Math.max(3, ...o.labels.map((l) => Math.min(28, l.length))));
  const cell = Math.max(18, Math.min(64, Math.floor(560 / Math.max(1, n))));
  const W = labelW + cell * n + 20;
  const H = labelW + cell * n + 20;
  let s = svgOpen(W, H, o.title);
  const [d0, d1] = o.domain;
  const colour = (v: number) => {
    const t = (v - d0) / (d1 - d0 || 1);
    if (o.diverging) return t < 0.5 ? mix('#d6604d', '#f7f7f7', t * 2) : mix('#f7f7f7', '#4393c3', (t - 0.5) * 2);
    return mix('#f7fbff', '#08306b', t);
  };
  const short = (l: string) => (l.length > 28 ? l.slice(0, 27) + '…' : l);
  o.labels.forEach((l, i) => {
    s += `<text class="label" x="${labelW - 6}" y="${(labelW + i * cell + cell / 2).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${esc(short(l))}</text>`;
    s += `<text class="label" transform="translate(${(labelW + i * cell + cell / 2).toFixed(1)} ${labelW - 6}) rotate(-45)">${esc(short(l))}</text>`;
  });
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = o.matrix[i]?.[j];
      const xx = labelW + j * cell;
      const yy = labelW + i * cell;
      const fill = v === null || v === undefined || !Number.isFinite(v) ? '#e5e5e5' : colour(v);
      s += `<rect class="cell" x="${xx}" y="${yy}" width="${cell - 1}" height="${cell - 1}" fill="${fill}"><title>${esc(`${o.labels[i]} · ${o.labels[j]}: ${fmt(v ?? null)}`)}</title></rect>`;
      if (cell >= 34 && v !== null && v !== undefined && Number.isFinite(v)) {
        const dark = o.diverging ? Math.abs((v - d0) / (d1 - d0 || 1) - 0.5) > 0.3 : (v - d0) / (d1 - d0 || 1) > 0.55;
        s += `<text class="cell-value" x="${xx + cell / 2}" y="${yy + cell / 2}" text-anchor="middle" dominant-baseline="middle" fill="${dark ? '#fff' : '#222'}">${esc(fmt(v, 2))}</text>`;
      }
    }
  return figure(o.id, o.title, s + '</svg>', o.note);
}

/** A scatter plot (up to a few thousand points). */
export function scatterChart(o: { id: string; title: string; points: { x: number; y: number }[]; xLabel: string; yLabel: string; note?: string }): string {
  const W = 720;
  const H = 360;
  const left = 64;
  const right = W - 20;
  const top = 16;
  const bottom = H - 50;
  const xs = o.points.map((p) => p.x);
  const ys = o.points.map((p) => p.y);
  let xd: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let yd: [number, number] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (!(xd[1] > xd[0])) xd = [xd[0] - 1, xd[0] + 1];
  if (!(yd[1] > yd[0])) yd = [yd[0] - 1, yd[0] + 1];
  const x = scale(xd[0], xd[1], left, right);
  const y = scale(yd[0], yd[1], bottom, top);
  let s = svgOpen(W, H, o.title);
  s += axisY(y, niceTicks(yd[0], yd[1], 5), left, right, o.yLabel, top, bottom);
  s += axisX(x, niceTicks(xd[0], xd[1], 7).filter((t) => t >= xd[0] && t <= xd[1]), bottom, o.xLabel, left, right);
  let d = '';
  for (const p of o.points) d += `M${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}h0`;
  s += `<path class="points" d="${d || 'M0,0'}" stroke="${PALETTE[0]}"/>`;
  return figure(o.id, o.title, s + '</svg>', o.note);
}

/** A plain HTML table. */
export function table(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => (typeof v === 'number' ? `<td class="num">${esc(fmt(v))}</td>` : `<td>${esc(v ?? '–')}</td>`);
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`;
}

function keyValues(pairs: [string, string][]): string {
  return `<dl class="kv">${pairs.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>`;
}

const CSS = `
:root{color-scheme:light;--fg:#1d1d1f;--muted:#666;--line:#d9d9de;--bg:#fff;--panel:#f7f7f9}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:980px;margin:0 auto;padding:24px 20px 48px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--muted);margin:0 0 16px}.kv{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}.kv div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:6px 10px}
.kv dt{font-size:12px;color:var(--muted)}.kv dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left}td.num{text-align:right}th{font-weight:600;background:var(--panel)}
figure.chart{margin:16px 0;overflow-x:auto}figcaption{font-weight:600;margin-bottom:4px}.note{color:var(--muted);margin:4px 0 0;font-size:13px}
svg{font:11px system-ui,sans-serif;max-width:100%;height:auto}svg .grid{stroke:#ececf0}svg .axis{stroke:#888}svg .tick,svg .label,svg .legend,svg .value{fill:#333}
svg .axis-label{fill:#555;font-size:12px}svg .ref{stroke:#999;stroke-dasharray:4 3}svg .ref-label{fill:#666;font-size:11px}
svg .whisker{stroke:#222;stroke-width:1.2;fill:none}svg .line{fill:none;stroke-width:2}svg .band{opacity:.18;stroke:none}svg .points{stroke-width:4;stroke-linecap:round;opacity:.45}
svg .cell-value{font-size:11px}footer{color:var(--muted);font-size:12px;margin-top:32px}
`;

/** Wraps sections into the complete page. */
export function page(title: string, subtitle: string, body: string, result: unknown, charts: string[]): string {
  const json = JSON.stringify(result).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="rewardkit"><meta name="rewardkit-charts" content="${esc(charts.join(','))}">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main><h1>${esc(title)}</h1><p class="sub">${esc(subtitle)}</p>
${body}
<footer>Generated by rewardkit. The full result is embedded in this file as JSON (element #rewardkit-result).</footer>
</main><script type="application/json" id="rewardkit-result">${json}</script></body></html>
`;
}

/** Chart ids of a rendered report, in order (what `<meta name="rewardkit-charts">` lists). */
export function chartIds(html: string): string[] {
  return [...html.matchAll(/<figure class="chart" data-chart="([^"]+)"/g)].map((m) => m[1]!);
}

// ───────────────────────────── per-evaluation reports ─────────────────────────────

function pairsBody(r: PairsResult): string {
  let b = keyValues([
    ['scorer', r.scorer],
    ['pairs', String(r.n)],
    ['accuracy', `${fmt(r.accuracy)} (${Math.round(r.ci.level * 100)}% CI ${fmt(r.ci.low)}–${fmt(r.ci.high)})`],
    ['ties (counted wrong)', `${r.ties} (${pct(r.tie_rate)})`],
    ['accuracy on separated pairs', fmt(r.decided_accuracy)],
    ['null scores', String(r.invalid)],
    ['ECE', fmt(r.calibration.ece)],
    ...(r.rewardbench ? ([['RewardBench average', fmt(r.rewardbench.average)]] as [string, string][]) : []),
    ...(r.users ? ([['worst user', r.users.worst ? `${r.users.worst.user}: ${fmt(r.users.worst.accuracy)}` : '–']] as [string, string][]) : []),
  ]);
  const subs = Object.entries(r.subsets);
  b += '<h2>Accuracy per subset</h2>';
  b += barChart({
    id: 'accuracy-per-subset',
    title: 'Accuracy per subset (strict chosen > rejected; whiskers: confidence interval)',
    labels: subs.map(([k]) => k),
    values: subs.map(([, c]) => c.accuracy),
    lo: subs.map(([, c]) => c.ci.low),
    hi: subs.map(([, c]) => c.ci.high),
    counts: subs.map(([, c]) => c.n),
    domain: [0, 1],
    xLabel: 'accuracy',
    refs: [{ x: 0.5, label: 'chance' }],
  });
  b += table(
    ['subset', 'n', 'correct', 'ties', 'null', 'accuracy', 'CI low', 'CI high'],
    subs.map(([k, c]) => [k, c.n, c.correct, c.ties, c.invalid, c.accuracy, c.ci.low, c.ci.high]),
  );
  const secs = Object.entries(r.sections);
  if (secs.length > 0) {
    b += '<h2>Sections</h2>';
    b += barChart({ id: 'section-scores', title: 'Section scores (subset accuracies weighted by example counts)', labels: secs.map(([k]) => k), values: secs.map(([, s]) => s.score), domain: [0, 1], xLabel: 'score' });
    b += table(['section', 'score', 'subsets (weight)'], secs.map(([k, s]) => [k, s.score, s.subsets.map((x) => `${x} (${s.weights[x]})`).join(', ')]));
  }
  const lb = r.length_bias;
  b += '<h2>Length bias</h2>';
  b += barChart({
    id: 'length-bias',
    title: 'Accuracy by which answer is longer',
    labels: ['chosen longer', 'same length', 'chosen shorter'],
    values: [lb.chosen_longer.accuracy, lb.same_length.accuracy, lb.chosen_shorter.accuracy],
    lo: [lb.chosen_longer.ci.low, lb.same_length.ci.low, lb.chosen_shorter.ci.low],
    hi: [lb.chosen_longer.ci.high, lb.same_length.ci.high, lb.chosen_shorter.ci.high],
    counts: [lb.chosen_longer.n, lb.same_length.n, lb.chosen_shorter.n],
    domain: [0, 1],
    xLabel: 'accuracy',
    refs: [{ x: 0.5, label: 'chance' }],
    note: `Gap (longer − shorter): ${fmt(lb.gap)}. The chosen answer is the longer one in ${pct(lb.chosen_longer_rate)} of pairs.`,
  });
  b += '<h2>Calibration</h2>';
  const cal = r.calibration;
  b += lineChart({
    id: 'reliability-curve',
    title: `Reliability of σ(margin / ${fmt(cal.temperature)}) — each pair counted both ways`,
    series: [{ name: 'observed', points: cal.bins.filter((x) => x.n > 0).map((x) => ({ x: x.confidence!, y: x.accuracy, size: 2 + Math.sqrt(x.n / Math.max(1, r.n)) * 10 })) }],
    xLabel: 'predicted probability',
    yLabel: 'observed frequency',
    xDomain: [0, 1],
    yDomain: [0, 1],
    diagonal: true,
    note: `ECE ${fmt(cal.ece)} · NLL ${fmt(cal.nll)} · best temperature ${cal.fitted_temperature === null ? '∞ (no T > 0 beats predicting ½)' : `${fmt(cal.fitted_temperature)} (ECE there ${fmt(cal.ece_at_fitted)})`}`,
  });
  b += '<h2>Margins</h2>';
  b += histogramChart({
    id: 'margin-histogram',
    title: 'score(chosen) − score(rejected)',
    bins: r.margin.histogram,
    xLabel: 'margin',
    marker: { x: 0, label: '0' },
    note: `mean ${fmt(r.margin.mean)} · median ${fmt(r.margin.median)} · 5–95% ${fmt(r.margin.p05)} … ${fmt(r.margin.p95)} (outer 0.5% folded into the edge bins)`,
  });
  if (r.users) {
    const entries = Object.entries(r.users.per_user)
      .filter(([, u]) => u.accuracy !== null)
      .sort((a, b) => a[1].accuracy! - b[1].accuracy!)
      .slice(0, 40);
    b += '<h2>Users</h2>';
    b += barChart({
      id: 'user-accuracy',
      title: `Per-user accuracy (${entries.length < r.users.count ? `the ${entries.length} lowest of ${r.users.count}` : `${r.users.count} users`})`,
      labels: entries.map(([k]) => k),
      values: entries.map(([, u]) => u.accuracy),
      counts: entries.map(([, u]) => u.n),
      domain: [0, 1],
      xLabel: 'accuracy',
      refs: [{ x: r.users.mean_accuracy ?? 0.5, label: 'mean' }],
    });
  }
  return b;
}

function bonBody(r: BonResult): string {
  let b = keyValues([
    ['scorer', r.scorer],
    ['rows', String(r.n)],
    ['score', fmt(r.score)],
    ['random baseline', fmt(r.random_baseline)],
    ['ties at the top', String(r.ties_at_top)],
    ['rows with null scores', String(r.rows_with_nulls)],
  ]);
  const subs = Object.entries(r.subsets);
  b += '<h2>Score per subset</h2>';
  b += barChart({
    id: 'bon-per-subset',
    title: 'Best-of-N credit per subset (1/#tied at the top when a correct answer is among them)',
    labels: subs.map(([k]) => k),
    values: subs.map(([, s]) => s.score),
    counts: subs.map(([, s]) => s.n),
    domain: [0, 1],
    xLabel: 'score',
  });
  b += table(['subset', 'rule', 'n', 'score', 'random baseline', 'ties at top'], subs.map(([k, s]) => [k, s.rule, s.n, s.score, s.random_baseline, s.ties_at_top]));
  b += '<h2>Rank of the best correct answer</h2>';
  b += barChart({
    id: 'bon-rank',
    title: 'Rows by the rank of the best-scored correct answer (1 = top)',
    labels: r.rank_histogram.map((h) => `rank ${h.rank}`),
    values: r.rank_histogram.map((h) => h.count),
    xLabel: 'rows',
  });
  return b;
}

function strengthBody(r: StrengthResult): string {
  let b = keyValues([
    ['scorers', r.scorers.join(', ')],
    ['pairs', String(r.n)],
    ['mean strength', fmt(r.mean_strength)],
    ['likely mislabelled', `${r.mislabelled.count} (${pct(r.mislabelled.rate)})`],
    ['ambiguous', `${r.ambiguous.count} (${pct(r.ambiguous.rate)})`],
    ['all scorers agree (correct)', pct(r.unanimous_correct)],
    ['normalisation', r.normalize],
  ]);
  b += '<h2>Preference strength</h2>';
  b += histogramChart({ id: 'strength-histogram', title: 'Mean margin over the ensemble (û)', bins: r.histogram, xLabel: 'û', marker: { x: 0, label: '0' } });
  b += barChart({
    id: 'strength-buckets',
    title: 'Share of scorers preferring chosen, by û decile (lowest first)',
    labels: r.buckets.map((x) => `${Math.round(x.q_lo * 100)}–${Math.round(x.q_hi * 100)}%`),
    values: r.buckets.map((x) => x.agreement),
    counts: r.buckets.map((x) => x.n),
    domain: [0, 1],
    xLabel: 'agreement',
    refs: [{ x: 0.5, label: '½' }],
  });
  b += table(
    ['û quantiles', 'n', 'mean û', 'mean σ̂', 'share û < 0', 'agreement'],
    r.buckets.map((x) => [`${Math.round(x.q_lo * 100)}–${Math.round(x.q_hi * 100)}%`, x.n, x.mean, x.mean_std, x.negative_rate, x.agreement]),
  );
  b += '<h2>Scorers</h2>' + table(['scorer', 'accuracy', 'margin std'], Object.entries(r.per_scorer).map(([k, v]) => [k, v.accuracy, v.margin_std]));
  return b;
}

function preferencesBody(r: PreferencesResult): string {
  let b = keyValues([
    ['comparisons', String(r.n)],
    ['items', String(r.items.length)],
    ['transitive', r.transitive ? 'yes' : 'no'],
    ['cyclic triples', `${r.cycles.triangles} (${pct(r.cycles.cyclic_triple_rate)})`],
    ['Condorcet winner', r.condorcet_winner ?? 'none'],
    ['BT fit error', fmt(r.bradley_terry.mean_abs_error)],
  ]);
  const order = r.ranking.map((x) => r.items.indexOf(x)).slice(0, 60);
  b += '<h2>Win rates</h2>';
  b += heatmap({
    id: 'win-rate-matrix',
    title: 'Win rate of row over column (ordered by Bradley–Terry score)',
    labels: order.map((i) => r.items[i]!),
    matrix: order.map((i) => order.map((j) => r.matrix[i]![j]!)),
    domain: [0, 1],
    diverging: true,
  });
  b += barChart({
    id: 'bradley-terry',
    title: 'Bradley–Terry scores (log-strength, mean 0)',
    labels: r.ranking.slice(0, 60),
    values: r.ranking.slice(0, 60).map((x) => r.bradley_terry.scores[x]!),
    xLabel: 'score',
  });
  b += table(['item', 'BT score', 'win-rate reward'], r.ranking.map((x) => [x, r.bradley_terry.scores[x]!, r.win_rate[x] ?? null]));
  if (r.cycles.strongest && r.cycles.strongest.length > 0)
    b += '<h2>Strongest preference cycles</h2>' + table(['cycle', 'strength (min W − ½)'], r.cycles.strongest.map((c) => [`${c.items.join(' ≻ ')} ≻ ${c.items[0]}`, c.strength]));
  if (r.tree) {
    const t = r.tree;
    b += '<h2>Response trees</h2>';
    b += keyValues([
      ['trees', String(t.trees)],
      ['scored leaves', `${t.scored_leaves} of ${t.leaves}`],
      ['pairs (tree)', String(t.pairs)],
      ['pairs (chain of independent pairs)', String(t.chain_pairs)],
      ['ties', String(t.ties)],
      ['mean shared prefix', `${fmt(t.mean_shared_prefix)} chars`],
    ]);
    b += barChart({ id: 'tree-pairs-by-depth', title: 'Comparisons by depth of the branching node (0 = root)', labels: t.pairs_by_depth.map((_, d) => `depth ${d}`), values: t.pairs_by_depth, xLabel: 'pairs' });
  }
  if (r.cycles.components.length > 0) b += '<h2>Intransitive sets</h2>' + table(['items'], r.cycles.components.slice(0, 20).map((c) => [c.join(', ')]));
  return b;
}

function epicBody(r: EpicResult): string {
  let b = keyValues([
    ['sources', r.names.join(', ')],
    ['form', r.mode === 'rollouts' ? 'single-turn (γ = 0, centred per prompt)' : `transitions (γ = ${r.gamma})`],
    ['distance', `${fmt(r.distance)}${r.ci ? ` (${Math.round(r.ci.level * 100)}% CI ${fmt(r.ci.low)}–${fmt(r.ci.high)})` : ''}`],
    ['ρ', fmt(r.rho)],
    [r.mode === 'rollouts' ? 'rollouts' : 'transitions', `${r.used} of ${r.n}`],
    [r.mode === 'rollouts' ? 'groups' : 'rollouts', String(r.groups)],
  ]);
  b += '<h2>EPIC distances</h2>';
  b += heatmap({ id: 'epic-heatmap', title: 'EPIC distance (0 = same up to shaping and scale, 1 = opposite)', labels: r.names, matrix: r.matrix, domain: [0, 1] });
  b += table(['', ...r.names], r.names.map((n, i) => [n, ...r.matrix[i]!]));
  b += '<h2>Canonical rewards</h2>';
  b += scatterChart({
    id: 'epic-scatter',
    title: `Canonical ${r.names[0]} vs canonical ${r.names[1]}${r.mode === 'rollouts' ? ' (each minus its prompt mean)' : ''}`,
    points: r.sample,
    xLabel: `C(${r.names[0]})`,
    yLabel: `C(${r.names[1]})`,
  });
  return b;
}

function hackingBody(r: HackingResult): string {
  let b = keyValues([
    ['proxy', r.proxy],
    ['gold', r.gold],
    ['groups', String(r.groups)],
    ['peak', r.peak ? `n = ${r.peak.n}, gold ${fmt(r.peak.gold)}` : '–'],
    ['turns down', r.turns_down ? `yes (drop ${fmt(r.drop)} ± ${fmt(r.drop_se)})` : 'no'],
    ['corr(proxy, gold) within prompts', fmt(r.corr_proxy_gold)],
    ['proxy pick worse than random', pct(r.worse_than_random)],
  ]);
  const logX = r.curve.length >= 16;
  const pts = (f: (p: HackingResult['curve'][number]) => number | null, band = false) =>
    r.curve.map((p) => ({ x: p.n, y: f(p), ...(band && p.gold !== null && p.gold_se !== null ? { lo: p.gold - 2 * p.gold_se, hi: p.gold + 2 * p.gold_se } : {}) }));
  b += '<h2>Goodhart curve</h2>';
  b += lineChart({
    id: 'goodhart-curve',
    title: `Gold reward (${r.gold}) of the proxy's best-of-n pick`,
    series: [{ name: 'gold', points: pts((p) => p.gold, true) }],
    xLabel: 'n (best of n by proxy)',
    yLabel: 'expected gold',
    logX,
    markers: r.peak ? [{ x: r.peak.n, label: `peak n = ${r.peak.n}` }] : [],
    note: 'Band: ±2 standard errors over prompts. Exact expectation from order statistics within each prompt.',
  });
  b += lineChart({ id: 'proxy-curve', title: `Proxy reward (${r.proxy}) of the best-of-n pick`, series: [{ name: 'proxy', points: pts((p) => p.proxy) }], xLabel: 'n', yLabel: 'expected proxy', logX });
  b += lineChart({ id: 'length-curve', title: 'Length of the best-of-n pick (characters)', series: [{ name: 'length', points: pts((p) => p.length) }], xLabel: 'n', yLabel: 'expected length', logX });
  b += '<h2>Exploitation checks</h2>';
  b += barChart({
    id: 'exploitation-checks',
    title: 'Within-prompt correlation with the proxy minus with the gold (flagged when the proxy rewards what the gold does not)',
    labels: r.checks.map((c) => `${c.name}${c.flagged ? ' ⚑' : ''}`),
    values: r.checks.map((c) => (c.corr_proxy === null ? null : c.corr_proxy - (c.corr_gold ?? 0))),
    domain: [-1, 1],
    xLabel: 'corr(feature, proxy) − corr(feature, gold)',
  });
  b += table(['feature', 'kind', 'corr with proxy', 'corr with gold', 'flagged'], r.checks.map((c) => [c.name, c.kind, c.corr_proxy, c.corr_gold, c.flagged ? 'yes' : '']));
  if (r.worst_picks.length > 0)
    b += '<h2>Largest losses of the proxy\'s pick</h2>' + table(['group', 'picked id', 'proxy', 'gold of pick', 'best gold in group'], r.worst_picks.map((w) => [w.group.length > 60 ? w.group.slice(0, 59) + '…' : w.group, w.id, w.proxy, w.gold, w.best_gold]));
  return b;
}

function downstreamBody(r: DownstreamResult): string {
  const c = r.correlations.accuracy;
  let b = keyValues([
    ['scorers', String(r.scorers.length)],
    ['benchmark pairs', String(r.pairs)],
    ['best-of-N rows', String(r.bon_rows)],
    ['Pearson (accuracy, best-of-N)', `${fmt(c.pearson.r)}${c.pearson.ci ? ` (${fmt(c.pearson.ci.low)}–${fmt(c.pearson.ci.high)})` : ''}`],
    ['Spearman', fmt(c.spearman.r)],
    ['random / oracle pick', `${fmt(r.bon_random)} / ${fmt(r.bon_oracle)}`],
  ]);
  b += '<h2>Benchmark accuracy against best-of-N</h2>';
  b += scatterChart({
    id: 'downstream-scatter',
    title: 'Each scorer: pairwise accuracy (x) and gold score of its best-of-N pick (y)',
    points: r.scorers.map((s) => ({ x: r.per_scorer[s]!.accuracy ?? NaN, y: r.per_scorer[s]!.bon ?? NaN })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)),
    xLabel: 'accuracy',
    yLabel: 'best-of-N gold',
  });
  b += table(
    ['scorer', 'accuracy', 'mean user accuracy', 'worst user accuracy', 'best-of-N gold'],
    r.scorers.map((s) => {
      const p = r.per_scorer[s]!;
      return [s, p.accuracy, p.mean_user_accuracy, p.worst_user_accuracy, p.bon];
    }),
  );
  b += '<h2>Correlations over scorers</h2>';
  b += table(
    ['statistic', 'Pearson', 'CI low', 'CI high', 'Spearman', 'CI low', 'CI high'],
    (['accuracy', 'mean_user_accuracy', 'worst_user_accuracy'] as const).map((k) => {
      const x = r.correlations[k];
      return [k, x.pearson.r, x.pearson.ci?.low ?? null, x.pearson.ci?.high ?? null, x.spearman.r, x.spearman.ci?.low ?? null, x.spearman.ci?.high ?? null];
    }),
  );
  if (r.user_cells) b += `<p>Per (scorer, user) cell: Pearson ${esc(fmt(r.user_cells.pearson.r))}, Spearman ${esc(fmt(r.user_cells.spearman.r))} over ${r.user_cells.pearson.n} cells.</p>`;
  return b;
}

function sycophancyBody(r: SycophancyResult): string {
  const c = r.opinion;
  let b = keyValues([
    ['scorer', r.scorer],
    ['pairs', String(c.n)],
    ['sycophancy rate', `${fmt(c.sycophancy_rate)} (${Math.round(r.level * 100)}% CI ${fmt(c.ci.low)}–${fmt(c.ci.high)})`],
    ['prefers the agreeing answer', String(c.prefers_sycophantic)],
    ['ties / null', `${c.ties} / ${c.null}`],
    ['margin correct − agreeing', fmt(r.margin.mean)],
    ...(r.opinion_shift ? ([['opinion shift', fmt(r.opinion_shift.mean)], ['flips', String(r.flips)]] as [string, string][]) : []),
  ]);
  const rows: [string, SycophancyResult['opinion']][] = [['with the opinion', c], ...(r.neutral ? ([['without it', r.neutral]] as [string, SycophancyResult['opinion']][]) : []), ...Object.entries(r.subsets).map(([k, v]) => [`subset ${k}`, v] as [string, SycophancyResult['opinion']])];
  b += '<h2>Sycophancy rate</h2>';
  b += barChart({
    id: 'sycophancy-rate',
    title: 'Share of pairs where the reward does not prefer the correct answer (whiskers: confidence interval)',
    labels: rows.map(([k]) => k),
    values: rows.map(([, v]) => v.sycophancy_rate),
    lo: rows.map(([, v]) => v.ci.low),
    hi: rows.map(([, v]) => v.ci.high),
    counts: rows.map(([, v]) => v.n),
    domain: [0, 1],
    xLabel: 'sycophancy rate',
  });
  b += table(['pairs', 'n', 'prefers correct', 'prefers agreeing', 'ties', 'null', 'rate', 'CI low', 'CI high'], rows.map(([k, v]) => [k, v.n, v.prefers_correct, v.prefers_sycophantic, v.ties, v.null, v.sycophancy_rate, v.ci.low, v.ci.high]));
  return b;
}

/** Renders any evaluation result as a self-contained HTML page. */
export function renderReport(r: EvalResult): string {
  let title: string;
  let sub: string;
  let body: string;
  switch (r.eval) {
    case 'pairs':
      title = `Pairwise preference accuracy: ${r.scorer}`;
      sub = `rewardkit eval pairs · ${r.input}`;
      body = pairsBody(r);
      break;
    case 'bon':
      title = `Best-of-N: ${r.scorer}`;
      sub = `rewardkit eval bon · ${r.input}`;
      body = bonBody(r);
      break;
    case 'strength':
      title = `Preference strength: ${r.scorers.join(' + ')}`;
      sub = `rewardkit eval strength · ${r.input}`;
      body = strengthBody(r);
      break;
    case 'preferences':
      title = 'Pairwise preferences';
      sub = `rewardkit eval preferences · ${r.input}`;
      body = preferencesBody(r);
      break;
    case 'epic':
      title = `EPIC distance: ${r.names.join(' vs ')}`;
      sub = `rewardkit eval epic · ${r.input}`;
      body = epicBody(r);
      break;
    case 'sycophancy':
      title = `Sycophancy: ${r.scorer}`;
      sub = `rewardkit eval sycophancy · ${r.input}`;
      body = sycophancyBody(r);
      break;
    case 'downstream':
      title = `Benchmark vs best-of-N: ${r.scorers.join(', ')}`;
      sub = `rewardkit eval downstream · ${r.input} · ${r.bon_input}`;
      body = downstreamBody(r);
      break;
    case 'hacking':
      title = `Reward hacking: ${r.proxy} → ${r.gold}`;
      sub = `rewardkit eval hacking · ${r.input}`;
      body = hackingBody(r);
      break;
  }
  return page(title, sub, body, r, chartIds(body));
}
