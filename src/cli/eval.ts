import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SpecError } from '../spec/errors.js';
import { InputFileError } from '../rollout/jsonl.js';
import type { RewardSource } from '../evaluate/source.js';
import { EvalInputError } from '../evaluate/io.js';
import type { PairsResult, AccuracyCell } from '../evaluate/pairs.js';
import type { BonResult } from '../evaluate/bon.js';
import type { StrengthResult } from '../evaluate/strength.js';
import type { PreferencesResult } from '../evaluate/preferences.js';
import type { EpicResult, StepSource } from '../evaluate/epic.js';
import type { HackingResult } from '../evaluate/hacking.js';
import type { DownstreamResult, Correlation } from '../evaluate/downstream.js';
import type { SycophancyResult, MeanCI } from '../evaluate/sycophancy.js';
import type { EvalResult } from '../evaluate/report.js';
import { num, renderTable } from './table.js';
import { positiveInt, nonNegInt, number } from './args.js';

/**
 * The evaluation suite (it loads every grader kind), imported when an `eval` command runs, not when
 * `rewardkit --help` lists the commands (start-up time).
 */
const suite = () => import('../evaluate/index.js');

/** Where a command writes: stdout for the result, stderr for warnings and progress. Tests pass their own. */
export interface EvalIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Show a progress line (stderr is a terminal). */
  tty?: boolean;
}

const defaultIO = (): EvalIO => ({ out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n'), tty: process.stderr.isTTY === true });

interface CommonOptions {
  in: string;
  json?: boolean;
  report?: string;
  strict?: boolean;
  quiet?: boolean;
}

/** Runs an evaluation with the shared error handling, output (`--json` or a table) and `--report`. */
async function run<R extends EvalResult>(o: CommonOptions, io: EvalIO, evaluate: (log: (s: string) => void, progress: (n: number) => void) => Promise<R>, text: (r: R) => string, unit: string): Promise<number> {
  const log = (s: string) => {
    if (!o.quiet || s.startsWith('error')) io.err(s);
  };
  let last = 0;
  const start = Date.now();
  const progress = (n: number) => {
    if (!io.tty || o.quiet) return;
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    process.stderr.write(`\r\x1b[2Kscoring: ${n.toLocaleString('en-US')} ${unit} · ${Math.round(n / Math.max(1e-3, (now - start) / 1000)).toLocaleString('en-US')}/s`);
  };
  let result: R;
  try {
    result = await evaluate(log, progress);
  } catch (e) {
    if (io.tty && !o.quiet) process.stderr.write('\r\x1b[2K');
    if (e instanceof SpecError || e instanceof EvalInputError || e instanceof InputFileError) {
      io.err(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (io.tty && !o.quiet) process.stderr.write('\r\x1b[2K');
  if (o.report) {
    try {
      writeFileSync(o.report, (await suite()).renderReport(result));
    } catch (e) {
      io.err(`error: cannot write ${o.report}: ${(e as Error).message}`);
      return 1;
    }
  }
  io.out(o.json ? JSON.stringify(result, null, 2) : text(result));
  if (o.report) log(`report → ${o.report}`);
  return 0;
}

/** The sources named on the command line, spec files loaded with their `grader: module` modules; null (after an error line) when one is invalid. */
async function loadSources(args: string[], io: EvalIO): Promise<RewardSource[] | null> {
  try {
    // Imported when a command runs (it loads every grader kind), not when `--help` lists commands.
    const { parseSourceAsync } = await import('../evaluate/source.js');
    const sources: RewardSource[] = [];
    for (const a of args) sources.push(await parseSourceAsync(a));
    return sources;
  } catch (e) {
    if (e instanceof SpecError || e instanceof InputFileError) {
      io.err(`error: ${e.message}`);
      return null;
    }
    throw e;
  }
}

const int = (x: number) => x.toLocaleString('en-US');
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
const ci = (c: { low: number; high: number }) => `${num(c.low)}–${num(c.high)}`;
const n0 = (x: number | null) => (x === null ? '-' : num(x));

// ───────────────────────────── pairs ─────────────────────────────

export interface PairsCommandOptions extends CommonOptions {
  spec: string;
  section?: string[];
  temperature?: number;
  level?: number;
  minUserPairs?: number;
  batchSize?: number;
}

/** Terminal summary of `eval pairs`. */
export function renderPairsText(r: PairsResult): string {
  const lines: string[] = [];
  lines.push(`eval pairs · scorer "${r.scorer}" · ${int(r.n)} pairs from ${r.input}`);
  lines.push(
    `accuracy ${n0(r.accuracy)} (${Math.round(r.ci.level * 100)}% CI ${ci(r.ci)}) · ties ${int(r.ties)} (${pct(r.tie_rate)}, counted wrong) · null scores ${int(r.invalid)}` +
      (r.ties + r.invalid > 0 ? ` · ${n0(r.decided_accuracy)} on the ${int(r.n - r.ties - r.invalid)} pairs it separates` : ''),
  );
  lines.push('');
  const cell = (name: string, c: AccuracyCell) => [name, String(c.n), String(c.correct), String(c.ties), n0(c.accuracy), ci(c.ci)];
  lines.push(renderTable(['subset', 'n', 'correct', 'ties', 'accuracy', 'CI'], Object.entries(r.subsets).map(([k, c]) => cell(k, c))));
  const secs = Object.entries(r.sections);
  if (secs.length) {
    lines.push('');
    lines.push(renderTable(['section', 'score', 'subsets'], secs.map(([k, s]) => [k, n0(s.score), s.subsets.join(', ')])));
    if (r.rewardbench) lines.push(`RewardBench average ${n0(r.rewardbench.average)} · with prior sets (weights 2,2,2,2,1) ${n0(r.rewardbench.average_with_prior)}`);
  }
  if (r.users) {
    lines.push('');
    const w = r.users.worst;
    lines.push(`users ${int(r.users.count)} · mean per-user accuracy ${n0(r.users.mean_accuracy)} · worst ${w ? `"${w.user}" ${num(w.accuracy)} (n = ${w.n})` : '-'}`);
  }
  lines.push('');
  const lb = r.length_bias;
  lines.push(renderTable(['length', 'n', 'correct', 'ties', 'accuracy', 'CI'], [cell('chosen longer', lb.chosen_longer), cell('same length', lb.same_length), cell('chosen shorter', lb.chosen_shorter)]));
  lines.push(`length gap (accuracy when chosen is longer − when shorter) ${n0(lb.gap)} · chosen is the longer answer in ${pct(lb.chosen_longer_rate)} of pairs`);
  const c = r.calibration;
  lines.push(
    `calibration of σ(margin/${num(c.temperature)}): ECE ${n0(c.ece)} · NLL ${n0(c.nll)} · best temperature ${c.fitted_temperature === null ? '∞ (no T > 0 beats predicting ½)' : `${num(c.fitted_temperature)} (ECE ${n0(c.ece_at_fitted)})`}`,
  );
  lines.push(`margin chosen − rejected: mean ${n0(r.margin.mean)} · median ${n0(r.margin.median)} · 5–95% ${n0(r.margin.p05)} … ${n0(r.margin.p95)}`);
  const notes: string[] = [];
  if (r.bad_lines) notes.push(`${r.bad_lines} bad input lines skipped`);
  if (r.scoring_errors) notes.push(`${r.scoring_errors} rollouts with scoring errors (null)`);
  if (notes.length) lines.push(`note: ${notes.join('; ')}`);
  return lines.join('\n');
}

function parseSections(list: string[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of list ?? []) {
    const eq = s.indexOf('=');
    out[s.slice(0, eq).trim()] = s
      .slice(eq + 1)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  }
  return out;
}

/** `rewardkit eval pairs`. Returns the exit code. */
export async function runEvalPairs(o: PairsCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  const sources = await loadSources([o.spec], io);
  if (!sources) return 1;
  return run(
    o,
    io,
    async (log, progress) =>
      (await suite()).evaluatePairs(o.in, sources[0]!, {
        sections: parseSections(o.section),
        temperature: o.temperature,
        level: o.level,
        minUserPairs: o.minUserPairs,
        batchPairs: o.batchSize,
        strict: o.strict,
        log,
        progress,
      }),
    renderPairsText,
    'pairs',
  );
}

// ───────────────────────────── bon ─────────────────────────────

export interface BonCommandOptions extends CommonOptions {
  spec: string;
}

export function renderBonText(r: BonResult): string {
  const lines = [
    `eval bon · scorer "${r.scorer}" · ${int(r.n)} rows from ${r.input}`,
    `score ${n0(r.score)} · random baseline ${n0(r.random_baseline)} · ties at the top ${int(r.ties_at_top)} · rows with null scores ${int(r.rows_with_nulls)}`,
    '',
    renderTable(
      ['subset', 'rule', 'n', 'score', 'random', 'ties at top'],
      Object.entries(r.subsets).map(([k, s]) => [k, s.rule, String(s.n), n0(s.score), n0(s.random_baseline), String(s.ties_at_top)]),
    ),
    '',
    `rank of the best correct answer: ${r.rank_histogram.map((h) => `${h.rank}: ${int(h.count)}`).join(' · ')}`,
  ];
  return lines.join('\n');
}

export async function runEvalBon(o: BonCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  const sources = await loadSources([o.spec], io);
  if (!sources) return 1;
  return run(o, io, async (log, progress) => (await suite()).evaluateBon(o.in, sources[0]!, { strict: o.strict, log, progress }), renderBonText, 'rows');
}

// ───────────────────────────── strength ─────────────────────────────

export interface StrengthCommandOptions extends CommonOptions {
  spec: string[];
  normalize?: 'none' | 'std';
  flipQuantile?: number;
  out?: string;
  action?: 'annotate' | 'clean' | 'flip';
  dropAmbiguous?: boolean;
  batchSize?: number;
}

export function renderStrengthText(r: StrengthResult): string {
  const lines = [
    `eval strength · ${r.scorers.length} scorers (${r.scorers.join(', ')}) · ${int(r.n)} pairs from ${r.input}`,
    `mean strength ${n0(r.mean_strength)} · likely mislabelled ${int(r.mislabelled.count)} (${pct(r.mislabelled.rate)}; ${r.mislabelled.rule}) · ambiguous ${int(r.ambiguous.count)} (${pct(r.ambiguous.rate)}) · normal ${int(r.normal)} · null ${int(r.invalid)}`,
    `all scorers prefer chosen: ${pct(r.unanimous_correct)} · all prefer rejected: ${pct(r.unanimous_wrong)} · margins normalised: ${r.normalize}`,
    '',
    renderTable(['scorer', 'accuracy', 'margin std'], Object.entries(r.per_scorer).map(([k, v]) => [k, n0(v.accuracy), n0(v.margin_std)])),
    '',
    renderTable(
      ['û quantile', 'n', 'mean û', 'mean σ̂', 'û < 0', 'agreement'],
      r.buckets.map((b) => [`${Math.round(b.q_lo * 100)}–${Math.round(b.q_hi * 100)}%`, String(b.n), n0(b.mean), n0(b.mean_std), pct(b.negative_rate), n0(b.agreement)]),
    ),
  ];
  if (r.out) lines.push('', `wrote ${int(r.out.written)} pairs to ${r.out.path} (${r.out.action}: ${int(r.out.flipped)} flipped, ${int(r.out.dropped)} dropped)`);
  const scales = Object.values(r.per_scorer).map((v) => v.margin_std ?? 0).filter((x) => x > 0);
  if (r.normalize === 'none' && scales.length > 1 && Math.max(...scales) > 10 * Math.min(...scales))
    lines.push(`note: the scorers' margins differ in scale by ${num(Math.max(...scales) / Math.min(...scales))}×; consider --normalize std`);
  return lines.join('\n');
}

export async function runEvalStrength(o: StrengthCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  if (o.spec.length < 2) {
    io.err('error: eval strength needs at least two --spec (an ensemble of scorers)');
    return 2;
  }
  const sources = await loadSources(o.spec, io);
  if (!sources) return 1;
  return run(
    o,
    io,
    async (log, progress) =>
      (await suite()).evaluateStrength(o.in, sources, {
        normalize: o.normalize,
        flipQuantile: o.flipQuantile,
        out: o.out,
        action: o.action,
        dropAmbiguous: o.dropAmbiguous,
        batchPairs: o.batchSize,
        strict: o.strict,
        log,
        progress,
      }),
    renderStrengthText,
    'pairs',
  );
}

// ───────────────────────────── preferences ─────────────────────────────

export interface PreferencesCommandOptions extends CommonOptions {
  margin?: number;
  minComparisons?: number;
  out?: string;
  pairsOut?: string;
}

export function renderPreferencesText(r: PreferencesResult): string {
  const top = r.ranking.slice(0, 30);
  const lines = [
    `eval preferences · ${int(r.n)} comparisons of ${int(r.items.length)} items from ${r.input}`,
    `transitive: ${r.transitive ? 'yes' : 'no'} · cyclic triples ${int(r.cycles.triangles)}${r.cycles.cyclic_triple_rate !== null ? ` (${pct(r.cycles.cyclic_triple_rate)} of decided triples)` : ''} · Condorcet winner ${r.condorcet_winner ?? 'none'} · Bradley–Terry fit error ${n0(r.bradley_terry.mean_abs_error)} (${r.bradley_terry.direction_disagreements} pairs where it contradicts the majority)`,
    '',
    renderTable(['item', 'BT score', 'win-rate reward'], top.map((x) => [x, num(r.bradley_terry.scores[x]!), n0(r.win_rate[x] ?? null)])),
  ];
  if (r.ranking.length > top.length) lines.push(`… ${r.ranking.length - top.length} more (see --json or --report)`);
  if (r.cycles.strongest?.length) {
    lines.push('', 'strongest cycles:');
    for (const c of r.cycles.strongest.slice(0, 10)) lines.push(`  ${c.items.join(' ≻ ')} ≻ ${c.items[0]}   (min margin ${num(c.strength)})`);
  }
  if (r.cycles.components.length) lines.push(`intransitive sets: ${r.cycles.components.slice(0, 5).map((c) => `{${c.join(', ')}}`).join(' ')}`);
  if (r.groups) lines.push(`groups ${int(r.groups.count)} · with a cycle ${int(r.groups.with_cycles)} · cyclic triple rate ${pct(r.groups.cyclic_triple_rate)}`);
  if (r.tree) {
    const t = r.tree;
    lines.push(
      `trees ${int(t.trees)} · scored leaves ${int(t.scored_leaves)} of ${int(t.leaves)} · pairs ${int(t.pairs)} (${int(t.ties)} ties; a chain of independent pairs would give ${int(t.chain_pairs)}) · by branching depth ${t.pairs_by_depth.map((k, d) => `${d}: ${int(k)}`).join(' · ')} · mean shared prefix ${n0(t.mean_shared_prefix)} chars`,
    );
  }
  if (r.out) lines.push(`wrote ${int(r.out.written)} win-rate rewards to ${r.out.path}`);
  if (r.pairs_out) lines.push(`wrote ${int(r.pairs_out.written)} tree pairs to ${r.pairs_out.path}`);
  return lines.join('\n');
}

export async function runEvalPreferences(o: PreferencesCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  return run(o, io, async (log) => (await suite()).evaluatePreferences(o.in, { margin: o.margin, minComparisons: o.minComparisons, out: o.out, pairsOut: o.pairsOut, strict: o.strict, log }), renderPreferencesText, 'comparisons');
}

// ───────────────────────────── epic ─────────────────────────────

export interface EpicCommandOptions extends CommonOptions {
  a?: string;
  b?: string;
  spec?: string[];
  gamma?: number;
  bootstrap?: number;
  seed?: number;
  batchSize?: number;
}

export function renderEpicText(r: EpicResult): string {
  const lines = [
    `eval epic · ${r.mode === 'rollouts' ? `single-turn form (γ = 0, centred per prompt) · ${int(r.used)} of ${int(r.n)} rollouts in ${int(r.groups)} prompts` : `transition form (γ = ${r.gamma}) · ${int(r.n)} transitions, ${r.states} states, ${r.actions} actions`} · ${r.input}`,
    `EPIC distance ${r.names[0]} ↔ ${r.names[1]}: ${n0(r.distance)}${r.ci ? ` (${Math.round(r.ci.level * 100)}% CI ${ci(r.ci)}, ${r.ci.resamples} group-bootstrap resamples)` : ''} · ρ ${n0(r.rho)}`,
  ];
  if (r.names.length > 2) lines.push('', renderTable(['', ...r.names], r.names.map((n, i) => [n, ...r.matrix[i]!.map((x) => n0(x))])));
  if (r.singleton_groups) lines.push(`note: ${int(r.singleton_groups)} prompts have a single rollout; their centred reward is 0 and carries no information`);
  if (r.distance === null) lines.push('note: a canonical reward is constant (the reward is equivalent to 0 on this data), so the distance is undefined');
  return lines.join('\n');
}

export async function runEvalEpic(o: EpicCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  const args = [...(o.a ? [o.a] : []), ...(o.b ? [o.b] : []), ...(o.spec ?? [])];
  if (args.length < 2) {
    io.err('error: eval epic needs two reward sources (--a and --b, or --spec twice or more)');
    return 2;
  }
  let sources: (RewardSource | StepSource)[];
  const steps = args.filter((a) => a.startsWith('step:')).length;
  if (steps > 0 && steps < args.length) {
    io.err('error: eval epic compares rewards over one space: either all sources are step:KEY (transitions) or none is (whole rollouts)');
    return 2;
  }
  if (steps > 0) sources = args.map((await suite()).stepSource);
  else {
    const loaded = await loadSources(args, io);
    if (!loaded) return 1;
    sources = loaded;
  }
  return run(
    o,
    io,
    async (log, progress) => (await suite()).evaluateEpic(o.in, sources, { gamma: o.gamma, bootstrap: o.bootstrap, seed: o.seed, batchSize: o.batchSize, strict: o.strict, log, progress }),
    renderEpicText,
    'rollouts',
  );
}

// ───────────────────────────── hacking ─────────────────────────────

export interface HackingCommandOptions extends CommonOptions {
  proxy: string;
  gold: string;
  maxN?: number;
  replacement?: boolean;
  threshold?: number;
  batchSize?: number;
}

export function renderHackingText(r: HackingResult): string {
  const pick = r.curve.length <= 12 ? r.curve : r.curve.filter((p, i) => i === 0 || i === r.curve.length - 1 || (p.n & (p.n - 1)) === 0 || p.n === r.peak?.n);
  const lines = [
    `eval hacking · proxy "${r.proxy}" → gold "${r.gold}" · ${int(r.used)} rollouts in ${int(r.groups)} prompts · ${r.input}`,
    `peak gold ${r.peak ? `${num(r.peak.gold)} at n = ${r.peak.n}` : '-'} · at n = ${r.final?.n ?? '-'}: ${r.final ? num(r.final.gold) : '-'} · turns down: ${r.turns_down ? `yes (drop ${n0(r.drop)} ± ${n0(r.drop_se)})` : 'no'} · within-prompt corr(proxy, gold) ${n0(r.corr_proxy_gold)} · proxy pick worse than a random pick in ${pct(r.worse_than_random)} of prompts`,
    '',
    renderTable(
      ['n', 'KL bound', 'proxy', 'gold', '± se', 'length', 'prompts'],
      pick.map((p) => [String(p.n), num(p.kl), n0(p.proxy), n0(p.gold), n0(p.gold_se), n0(p.length), String(p.groups)]),
    ),
    '',
    renderTable(
      ['check', 'kind', 'corr proxy', 'corr gold', 'flagged'],
      r.checks.map((c) => [c.name, c.kind, n0(c.corr_proxy), n0(c.corr_gold), c.flagged ? 'yes' : '']),
    ),
    `length exploited: ${r.length_exploited ? 'yes' : 'no'} · format features the proxy rewards but the gold does not: ${r.format_exploited.length ? r.format_exploited.join(', ') : 'none'}`,
  ];
  return lines.join('\n');
}

export async function runEvalHacking(o: HackingCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  const sources = await loadSources([o.proxy, o.gold], io);
  if (!sources) return 1;
  return run(
    o,
    io,
    async (log, progress) =>
      (await suite()).evaluateHacking(o.in, sources[0]!, sources[1]!, { maxN: o.maxN, replacement: o.replacement, threshold: o.threshold, batchSize: o.batchSize, strict: o.strict, log, progress }),
    renderHackingText,
    'rollouts',
  );
}

// ───────────────────────────── downstream ─────────────────────────────

export interface DownstreamCommandOptions extends CommonOptions {
  spec: string[];
  bon: string;
  level?: number;
  minUserPairs?: number;
  batchSize?: number;
}

const corr = (c: Correlation) => `${n0(c.r)}${c.ci ? ` (${ci(c.ci)})` : ''}`;

export function renderDownstreamText(r: DownstreamResult): string {
  const lines = [
    `eval downstream · ${r.scorers.length} scorers · benchmark ${int(r.pairs)} pairs from ${r.input} · best-of-N ${int(r.bon_rows)} rows from ${r.bon_input}`,
    `best-of-N gold: random pick ${n0(r.bon_random)} · oracle ${n0(r.bon_oracle)}`,
    '',
    renderTable(
      ['scorer', 'accuracy', 'mean user acc', 'worst user acc', 'best-of-N gold'],
      r.scorers.map((s) => {
        const p = r.per_scorer[s]!;
        return [s, n0(p.accuracy), n0(p.mean_user_accuracy), n0(p.worst_user_accuracy), n0(p.bon)];
      }),
    ),
    '',
    renderTable(
      ['benchmark statistic', 'Pearson vs best-of-N (CI)', 'Spearman (CI)'],
      (['accuracy', 'mean_user_accuracy', 'worst_user_accuracy'] as const).map((k) => [k.replace(/_/g, ' '), corr(r.correlations[k].pearson), corr(r.correlations[k].spearman)]),
    ),
  ];
  if (r.user_cells) lines.push(`per (scorer, user) cell: Pearson ${corr(r.user_cells.pearson)} · Spearman ${corr(r.user_cells.spearman)} over ${int(r.user_cells.pearson.n)} cells`);
  if (r.scorers.length < 4) lines.push('note: intervals need at least 4 scorers');
  return lines.join('\n');
}

export async function runEvalDownstream(o: DownstreamCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  if (o.spec.length < 2) {
    io.err('error: eval downstream needs at least two --spec (a correlation over reward models)');
    return 2;
  }
  const sources = await loadSources(o.spec, io);
  if (!sources) return 1;
  return run(
    o,
    io,
    async (log, progress) => (await suite()).evaluateDownstream(o.in, o.bon, sources, { level: o.level, minUserPairs: o.minUserPairs, batchPairs: o.batchSize, strict: o.strict, log, progress }),
    renderDownstreamText,
    'rows',
  );
}

// ───────────────────────────── sycophancy ─────────────────────────────

export interface SycophancyCommandOptions extends CommonOptions {
  spec: string;
  level?: number;
  batchSize?: number;
}

const mci = (m: MeanCI) => `${n0(m.mean)}${m.low !== null && m.high !== null ? ` (${num(m.low)}–${num(m.high)})` : ''}`;

export function renderSycophancyText(r: SycophancyResult): string {
  const c = r.opinion;
  const lines = [
    `eval sycophancy · scorer "${r.scorer}" · ${int(c.n)} pairs from ${r.input}`,
    `sycophancy rate ${n0(c.sycophancy_rate)} (${Math.round(r.level * 100)}% CI ${ci(c.ci)}): prefers the agreeing answer ${int(c.prefers_sycophantic)} · ties ${int(c.ties)} · null ${int(c.null)} · prefers the correct answer ${int(c.prefers_correct)}`,
    `margin r(correct) − r(sycophantic): ${mci(r.margin)}`,
  ];
  if (r.neutral && r.opinion_shift)
    lines.push(
      `without the stated opinion: sycophancy rate ${n0(r.neutral.sycophancy_rate)} (${ci(r.neutral.ci)}) · opinion shift (margin without − with) ${mci(r.opinion_shift)} · flips ${int(r.flips ?? 0)}`,
    );
  const subs = Object.entries(r.subsets);
  if (subs.length > 1) lines.push('', renderTable(['subset', 'n', 'sycophancy rate', 'CI'], subs.map(([k, s]) => [k, String(s.n), n0(s.sycophancy_rate), ci(s.ci)])));
  return lines.join('\n');
}

export async function runEvalSycophancy(o: SycophancyCommandOptions, io: EvalIO = defaultIO()): Promise<number> {
  const sources = await loadSources([o.spec], io);
  if (!sources) return 1;
  return run(o, io, async (log, progress) => (await suite()).evaluateSycophancy(o.in, sources[0]!, { level: o.level, batchPairs: o.batchSize, strict: o.strict, log, progress }), renderSycophancyText, 'rows');
}

// ───────────────────────────── registration ─────────────────────────────

function unit(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in [0, 1], got "${v}"`);
  return n;
}

function level(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a confidence level in (0, 1), got "${v}"`);
  return n;
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function common(c: Command, input: string): Command {
  return c
    .requiredOption('-i, --in <file>', `${input}: .jsonl, .jsonl.gz, or - for stdin`)
    .option('--json', 'print the result as one JSON object on stdout')
    .option('--report <file.html>', 'write a self-contained HTML report (inline SVG charts, no network)')
    .option('--strict', 'stop at the first unusable line (exit 1) instead of skipping and counting it')
    .option('-q, --quiet', 'print nothing but errors and the result');
}

/** Registers `rewardkit eval` and its subcommands. */
export function registerEval(program: Command): void {
  const ev = program
    .command('eval')
    .description('Evaluate reward models and reward functions: pairwise accuracy, best-of-N, preference strength, preferences (and response trees), EPIC distance, reward hacking, sycophancy, benchmark-vs-downstream correlation.');

  common(
    ev
      .command('pairs')
      .description("Preference accuracy on {prompt, chosen, rejected, subset?, user?} pairs (or \\n\\nHuman:/\\n\\nAssistant: transcripts) with RewardBench's rules: strict >, ties wrong, sections weighted by example counts; per-user and worst-user accuracy, length bias, calibration.")
      .requiredOption('-s, --spec <spec>', 'the scorer: a reward spec (.yaml/.json); any spec works (rules, reward model, judge, likelihood)'),
    'pairs',
  )
    .option('--section <name=subsets>', 'a section: name=subset1,subset2 (repeatable; weighted by example counts)', collect)
    .option('--temperature <T>', 'calibration: predicted P(chosen wins) = σ(margin / T)', positive, 1)
    .option('--level <p>', 'confidence level of the intervals', level, 0.95)
    .option('--min-user-pairs <n>', 'users with fewer pairs are left out of the worst-user figure', positiveInt, 1)
    .option('--batch-size <n>', 'pairs scored per batch', positiveInt, 2048)
    .action(async (opts: PairsCommandOptions) => {
      process.exitCode = await runEvalPairs(opts);
    });

  common(
    ev
      .command('bon')
      .description("Best-of-N with RewardBench 2's rule: 1/#tied at the top when a correct answer is among them, else 0. Rows {prompt, chosen, rejected: [...]} or {prompt, responses: [...], correct: i}.")
      .requiredOption('-s, --spec <spec>', 'the scorer: a reward spec'),
    'best-of-N rows',
  ).action(async (opts: BonCommandOptions) => {
    process.exitCode = await runEvalBon(opts);
  });

  common(
    ev
      .command('strength')
      .description('Preference strength over an ensemble of scorers (Secrets of RLHF II): mean and std of margins per pair; flags likely mislabelled (mean < 0) and ambiguous pairs; writes an annotated, cleaned or relabelled file.')
      .requiredOption('-s, --spec <spec>', 'a scorer of the ensemble (repeat: at least two)', collect),
    'pairs',
  )
    .addOption(new Option('--normalize <mode>', "none: scorers share a scale (the paper); std: divide each scorer's margins by their std").choices(['none', 'std']).default('none'))
    .option('--flip-quantile <q>', 'flag the lowest q of pairs by mean margin instead of mean < 0 (the paper: 0.2)', unit)
    .option('-o, --out <file>', 'write the pairs again with a `strength` field')
    .addOption(new Option('--action <action>', 'with --out: annotate (all rows), clean (drop mislabelled), flip (swap their chosen/rejected)').choices(['annotate', 'clean', 'flip']).default('annotate'))
    .option('--drop-ambiguous', 'with --action clean: drop ambiguous pairs too')
    .option('--batch-size <n>', 'pairs scored per batch', positiveInt, 2048)
    .action(async (opts: StrengthCommandOptions) => {
      process.exitCode = await runEvalStrength(opts);
    });

  common(
    ev
      .command('preferences')
      .description('General pairwise preferences {a, b, winner} or {a, b, p}, or response trees {tree: {text, children, score}} (tree-structured preferences): win-rate matrix, Bradley–Terry fit, DNO win-rate rewards, and preference cycles (intransitivity).'),
    'comparisons',
  )
    .option('--margin <m>', 'an edge i → j needs win rate > 0.5 + m', number, 0)
    .option('--min-comparisons <n>', 'an edge needs at least n comparisons', positiveInt, 1)
    .option('-o, --out <file>', 'write the win-rate reward of every item (per group when rows have `group`)')
    .option('--pairs-out <file>', 'tree rows: write their comparisons as {prompt, chosen, rejected} pairs (ties left out)')
    .action(async (opts: PreferencesCommandOptions) => {
      process.exitCode = await runEvalPreferences(opts);
    });

  common(
    ev
      .command('sycophancy')
      .description('Sycophancy (Sycophancy to Subterfuge): on {prompt stating the user\'s opinion, correct, sycophantic, neutral_prompt?} rows, how often the reward does not prefer the correct answer over the one agreeing with the user; the margin, and how much stating the opinion shifts it.')
      .requiredOption('-s, --spec <spec>', 'the reward: a spec or field:PATH'),
    'rows {prompt, correct, sycophantic, neutral_prompt?, reference?, subset?}',
  )
    .option('--level <p>', 'confidence level of the intervals', level, 0.95)
    .option('--batch-size <n>', 'rows scored per batch', positiveInt, 2048)
    .action(async (opts: SycophancyCommandOptions) => {
      process.exitCode = await runEvalSycophancy(opts);
    });

  common(
    ev
      .command('downstream')
      .description("Benchmark validity (Personalized RewardBench): each scorer's pairwise accuracy (overall, mean and worst per user) on --in against the gold score of its best-of-N pick on --bon; Pearson and Spearman over scorers, and over (scorer, user) cells.")
      .requiredOption('-s, --spec <spec>', 'a scorer (repeat: at least two; intervals need four)', collect)
      .requiredOption('--bon <file>', 'best-of-N rows {prompt, responses, gold: [score per response], user?} (or eval bon rows: gold 1 for correct)'),
    'benchmark pairs {prompt, chosen, rejected, user?}',
  )
    .option('--level <p>', 'confidence level of the intervals', level, 0.95)
    .option('--min-user-pairs <n>', 'users with fewer pairs are left out of the worst-user figure', positiveInt, 1)
    .option('--batch-size <n>', 'pairs scored per batch', positiveInt, 2048)
    .action(async (opts: DownstreamCommandOptions) => {
      process.exitCode = await runEvalDownstream(opts);
    });

  common(
    ev
      .command('epic')
      .description('EPIC distance between reward functions (0 = equivalent up to potential shaping and positive scale). Rollouts: γ = 0, rewards centred per prompt. step:KEY sources: the tabular transition form with γ.')
      .option('-a, --a <source>', 'first reward: a spec, field:PATH (a stored number) or step:KEY (per-step rewards)')
      .option('-b, --b <source>', 'second reward')
      .option('-s, --spec <source>', 'a reward source (repeat for a distance matrix)', collect),
    'rollouts',
  )
    .option('--gamma <g>', 'discount of the transition form', unit, 0.99)
    .option('--bootstrap <n>', 'group-bootstrap resamples for the interval (0 = none)', nonNegInt, 200)
    .option('--seed <n>', 'bootstrap seed', nonNegInt, 1)
    .option('--batch-size <n>', 'rollouts per scoring batch', positiveInt, 4096)
    .action(async (opts: EpicCommandOptions) => {
      process.exitCode = await runEvalEpic(opts);
    });

  common(
    ev
      .command('hacking')
      .description("The Goodhart curve: expected gold reward of the proxy's best-of-n pick for n = 1…N (exact, from order statistics within each prompt), where it turns down, and length/format exploitation checks.")
      .requiredOption('--proxy <source>', 'the reward being optimised: a spec or field:PATH')
      .requiredOption('--gold <source>', 'the reward it stands in for: a spec or field:PATH'),
    'rollouts (several per prompt)',
  )
    .option('--max-n <n>', 'largest n (default: the smallest prompt group)', positiveInt)
    .option('--replacement', 'best-of-n with replacement (n may exceed the group size)')
    .option('--threshold <r>', 'correlation threshold of the exploitation checks', unit, 0.2)
    .option('--batch-size <n>', 'rollouts per scoring batch', positiveInt, 4096)
    .action(async (opts: HackingCommandOptions) => {
      process.exitCode = await runEvalHacking(opts);
    });
}
