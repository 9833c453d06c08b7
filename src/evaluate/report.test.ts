import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PairsAccumulator } from './pairs.js';
import { BonAccumulator } from './bon.js';
import { strengthResult } from './strength.js';
import { PreferenceTable, preferencesResult } from './preferences.js';
import { evaluateEpic } from './epic.js';
import { hackingResult } from './hacking.js';
import { chartIds, renderReport, type EvalResult } from './report.js';
import { functionSource } from './source.js';
import { mulberry32 } from './stats.js';

/** One result of every evaluation, from small synthetic data, with the charts each report must hold. */
async function sampleResults(): Promise<{ name: string; result: EvalResult; charts: string[] }[]> {
  const rand = mulberry32(42);
  const pa = new PairsAccumulator();
  const subsets = ['alpacaeval-easy', 'math-prm', 'hep-python', 'xstest-should-respond', '<img src=x onerror=alert(1)>'];
  for (let i = 0; i < 400; i++) {
    const c = rand() * 4 - 1;
    const r = rand() * 4 - 1.5;
    pa.add(i % 37 === 0 ? c : c, i % 41 === 0 ? c : r, subsets[i % subsets.length]!, `user${i % 7}`, 50 + (i % 13), 50 + (i % 11));
  }
  const pairs = pa.result({ scorer: 'synthetic', input: 'pairs.jsonl' }, { sections: { custom: ['math-prm', 'hep-python'] } });

  const ba = new BonAccumulator();
  for (let i = 0; i < 60; i++) ba.add(`r${i}`, i % 2 ? 'Math' : 'Focus', Float64Array.from({ length: 4 }, () => Math.floor(rand() * 3)), [true, false, false, false]);
  const bon = ba.result({ scorer: 'synthetic', input: 'bon.jsonl' });

  const m1 = Float64Array.from({ length: 300 }, () => rand() * 2 - 0.5);
  const m2 = m1.map((x) => x + rand() - 0.5);
  const m3 = m1.map((x) => x * 2 + rand() - 0.5);
  const strength = strengthResult([m1, m2, m3], ['rm1', 'rm2', 'rm3'], { input: 'pairs.jsonl' }).result;

  const pt = new PreferenceTable();
  const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
  for (let k = 0; k < 200; k++) {
    const i = Math.floor(rand() * 5);
    const j = (i + 1 + Math.floor(rand() * 4)) % 5;
    pt.add(names[i]!, names[j]!, rand() < 0.5 + 0.1 * (j - i) ? 1 : 0);
  }
  pt.add('alpha', 'beta', 1);
  const preferences = preferencesResult(pt, { input: 'comparisons.jsonl', n: 201 });

  const dir = mkdtempSync(join(tmpdir(), 'rk-report-'));
  const file = join(dir, 'rollouts.jsonl');
  writeFileSync(
    file,
    Array.from({ length: 120 }, (_, i) => JSON.stringify({ id: `r${i}`, group: `q${i % 20}`, completion: 'x'.repeat(1 + ((i * 7) % 13)), meta: { g: (i * 5) % 9 } })).join('\n'),
  );
  const epic = await evaluateEpic(file, [functionSource('length', (r) => String(r.completion).length), functionSource('gold', (r) => r.meta!.g as number), functionSource('mix', (r) => String(r.completion).length + (r.meta!.g as number))], { bootstrap: 20 });

  const G = 20;
  const m = 8;
  const cols = { proxy: new Float64Array(G * m), gold: new Float64Array(G * m), length: new Float64Array(G * m), groupOf: new Int32Array(G * m) };
  for (let i = 0; i < G * m; i++) {
    const x = rand() * 8;
    cols.proxy[i] = x;
    cols.gold[i] = x - 0.1 * x * x;
    cols.length[i] = 100 + 30 * x;
    cols.groupOf[i] = Math.floor(i / m);
  }
  const hacking = hackingResult({ ...cols, features: { markdown: cols.proxy.map((x) => Math.round(x)) }, components: {} }, Array.from({ length: G }, (_, g) => `q${g}`), Array.from({ length: G * m }, (_, i) => `r${i}`), { input: 'rollouts.jsonl', proxy: 'proxy', gold: 'gold' });

  return [
    { name: 'pairs', result: pairs, charts: ['accuracy-per-subset', 'section-scores', 'length-bias', 'reliability-curve', 'margin-histogram', 'user-accuracy'] },
    { name: 'bon', result: bon, charts: ['bon-per-subset', 'bon-rank'] },
    { name: 'strength', result: strength, charts: ['strength-histogram', 'strength-buckets'] },
    { name: 'preferences', result: preferences, charts: ['win-rate-matrix', 'bradley-terry'] },
    { name: 'epic', result: epic, charts: ['epic-heatmap', 'epic-scatter'] },
    { name: 'hacking', result: hacking, charts: ['goodhart-curve', 'proxy-curve', 'length-curve', 'exploitation-checks'] },
  ];
}

describe('HTML reports (static checks)', () => {
  it('hold every chart, load nothing from outside, escape text and embed the JSON result', async () => {
    for (const { name, result, charts } of await sampleResults()) {
      const html = renderReport(result);
      expect(chartIds(html), name).toEqual(expect.arrayContaining(charts));
      expect(html).toContain(`<meta name="rewardkit-charts" content="${chartIds(html).join(',')}">`);
      // Self-contained: no external resources of any kind.
      expect(html, name).not.toMatch(/<(link|img|iframe|object|embed|image|use)\b|<[a-z][^>]*\s(src|href|xlink:href)=|url\(|@import/i);
      expect(html.match(/<script/g)?.length, name).toBe(1);
      expect(html).toContain('<script type="application/json" id="rewardkit-result">');
      const json = html.slice(html.indexOf('id="rewardkit-result">') + 'id="rewardkit-result">'.length, html.lastIndexOf('</script>'));
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(result)));
      // Every chart has marks.
      for (const id of charts) {
        const fig = html.slice(html.indexOf(`data-chart="${id}"`));
        expect(fig.slice(0, fig.indexOf('</figure>')), `${name}/${id}`).toMatch(/<(rect|path|circle)[^>]*class="(bar|cell|line|dot|points)"/);
      }
    }
  });
  it('escapes hostile subset names', async () => {
    const pairs = (await sampleResults())[0]!.result;
    const html = renderReport(pairs);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

// ───────────── headless Chromium (Debian's chromium, driven by playwright-core) ─────────────

const CHROMIUM = process.env.REWARDKIT_CHROMIUM ?? '/usr/bin/chromium';
const playwrightName = 'playwright-core';
const playwright = (await import(playwrightName).catch(() => null)) as null | {
  chromium: { launch(o: object): Promise<{ newPage(): Promise<BrowserPage>; close(): Promise<void> }> };
};
interface BrowserPage {
  on(ev: string, f: (x: never) => void): void;
  goto(url: string): Promise<unknown>;
  evaluate<T>(f: (ids: string[]) => T, arg: string[]): Promise<T>;
  close(): Promise<void>;
}
const missing = [playwright ? null : 'the npm package playwright-core (devDependency)', existsSync(CHROMIUM) ? null : `${CHROMIUM} (Debian package chromium)`].filter((x): x is string => x !== null);
if (missing.length > 0) {
  if (process.env.CI === 'true') throw new Error(`the report browser test needs ${missing.join(' and ')}; they are installed by .ci/run`);
  console.warn(`skipping the headless-Chromium report test: missing ${missing.join(' and ')}`);
}

describe.skipIf(missing.length > 0)('HTML reports in headless Chromium', () => {
  let browser: Awaited<ReturnType<NonNullable<typeof playwright>['chromium']['launch']>>;
  beforeAll(async () => {
    browser = await playwright!.chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('opens every report with no console errors, no network requests, and every chart drawn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-report-html-'));
    for (const { name, result, charts } of await sampleResults()) {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, renderReport(result));
      const url = pathToFileURL(file).href;
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', ((m: { type(): string; text(): string }) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      }) as never);
      page.on('pageerror', ((e: Error) => errors.push(String(e))) as never);
      page.on('request', ((r: { url(): string }) => {
        if (r.url() !== url) requests.push(r.url());
      }) as never);
      await page.goto(url);
      const drawn = await page.evaluate((ids: string[]) => {
        // Runs in the page: the DOM is there, but not in this project's type libraries.
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const document = (globalThis as any).document;
        const listed = (document.querySelector('meta[name="rewardkit-charts"]')?.getAttribute('content') ?? '').split(',');
        return {
          listed,
          charts: ids.map((id) => {
            const svg = document.querySelector(`figure[data-chart="${id}"] svg`);
            const box = svg?.getBoundingClientRect();
            return { id, present: !!svg, width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('rect.bar, rect.cell, path.line, circle.dot, path.points').length ?? 0 };
          }),
          json: JSON.parse(document.getElementById('rewardkit-result')!.textContent!).eval as string,
        };
      }, charts);
      await page.close();
      expect(errors, `${name}: console errors`).toEqual([]);
      expect(requests, `${name}: network requests`).toEqual([]);
      expect(drawn.json).toBe(name);
      expect(drawn.listed).toEqual(expect.arrayContaining(charts));
      for (const c of drawn.charts) {
        expect(c.present, `${name}/${c.id} present`).toBe(true);
        expect(c.width, `${name}/${c.id} width`).toBeGreaterThan(100);
        expect(c.height, `${name}/${c.id} height`).toBeGreaterThan(50);
        expect(c.marks, `${name}/${c.id} marks`).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});
