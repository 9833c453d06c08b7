/**
 * The HTML report of `rewardkit lab run … --report FILE.html`: one self-contained page (inline SVG, no
 * network, no script but the inert JSON result) with, per experiment, its claims (statistic, CI,
 * holds) and its learning curves drawn as mean lines with confidence bands over seeds. Built from the
 * eval report's helpers (`src/evaluate/report.ts`: `lineChart` with `lo`/`hi` bands, `table`, `page`).
 */
import { esc, fmt, lineChart, page, table } from '../evaluate/report.js';
import type { Curve, ExperimentResult } from './types.js';

/** Chart id of one chart of one experiment: `<experiment>--<chart, kebab-case>`. */
export function labChartId(experiment: string, chart: string): string {
  return `${experiment}--${chart.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

/** The charts of a result: its curves grouped by `chart`, in first-appearance order. */
export function chartsOf(r: ExperimentResult): { id: string; title: string; curves: Curve[] }[] {
  const out: { id: string; title: string; curves: Curve[] }[] = [];
  for (const c of r.curves) {
    let g = out.find((x) => x.title === c.chart);
    if (!g) out.push((g = { id: labChartId(r.experiment, c.chart), title: c.chart, curves: [] }));
    g.curves.push(c);
  }
  return out;
}

function section(r: ExperimentResult): { html: string; charts: string[] } {
  const holds = r.claims.filter((c) => c.holds).length;
  let html = `<section class="experiment" data-experiment="${esc(r.experiment)}"><h2>${esc(r.experiment)}${r.variant ? ` — variant ${esc(r.variant)}` : ''}</h2>`;
  html += `<p class="sub">${esc(r.paper)} · ${r.seeds} seeds · ${holds}/${r.claims.length} claims hold · ${fmt(r.wallMs / 1000, 2)} s · ${fmt(r.envSteps)} environment steps</p>`;
  html += table(
    ['claim', 'statistic', 'value', 'CI', 'holds'],
    r.claims.map((c) => [c.claim, c.statisticName, c.statistic, `${Math.round(c.level * 100)}% [${fmt(c.ci[0])}, ${fmt(c.ci[1])}]`, c.holds ? 'yes' : 'NO']),
  );
  const charts: string[] = [];
  for (const ch of chartsOf(r)) {
    charts.push(ch.id);
    const first = ch.curves[0];
    html += lineChart({
      id: ch.id,
      title: `${r.experiment}: ${ch.title}`,
      xLabel: first.xLabel,
      yLabel: first.yLabel,
      series: ch.curves.map((c) => ({ name: c.label, points: c.x.map((x, i) => ({ x, y: c.mean[i], lo: c.lo[i], hi: c.hi[i], size: 2 })) })),
      note: `mean over ${r.seeds} seeds with its ${Math.round((r.claims[0]?.level ?? 0.95) * 100)}% t-band`,
    });
  }
  return { html: html + '</section>', charts };
}

/**
 * The report page for one or more experiment results.
 *
 * @example
 * writeFileSync('lab.html', renderLabReport([await experimentByName('gdpo-vs-grpo').run({ seeds: 10 })]));
 */
export function renderLabReport(results: readonly ExperimentResult[]): string {
  const parts = results.map(section);
  const all = results.flatMap((r) => r.claims);
  const subtitle = `${results.length} experiment${results.length === 1 ? '' : 's'} · ${all.filter((c) => c.holds).length}/${all.length} claims hold`;
  return page('rewardkit lab', subtitle, parts.map((p) => p.html).join('\n'), { lab: results }, parts.flatMap((p) => p.charts));
}
