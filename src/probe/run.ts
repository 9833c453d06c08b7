/**
 * Runs the probe: for each sample rollout, scores the plain wrong answer (the baseline), every
 * strategy's attempts, and their controls through the real pipeline with the whole spec, and keeps
 * each strategy whose combined reward beats what it must beat by more than 1e-9.
 */
import type { CompiledSpec } from '../spec/compile.js';
import type { Rollout, ScoredRollout } from '../rollout/types.js';
import { textOf } from '../rollout/sample.js';
import { scoreBatch } from '../pipeline.js';
import { buildBaseline, probedComponents, referenceStrings, type ProbedComponent } from './baseline.js';
import { promptText, STRATEGIES, strategiesFor, type Attempt, type Strategy } from './strategies.js';

/** A reward above the control by more than this is a finding. */
export const FINDING_EPSILON = 1e-9;

export interface ProbeOptions {
  /** Distinct samples (prompt + reference) probed at most (default 8). */
  maxRollouts?: number;
  /** Size of huge-output attempts in characters (default 1,000,000). */
  hugeChars?: number;
  /** The strategy table (default {@link STRATEGIES}). */
  strategies?: readonly Strategy[];
  /** Completions per scored batch (default 32). */
  batchSize?: number;
}

/** One strategy that beat the plain wrong answer on at least one sample (the sample with the largest gain is shown). */
export interface ProbeFinding {
  /** The components whose value rose over the control (`name=null` when a component went null), else the targeted component (`*` = any). */
  component: string;
  strategy: string;
  /** Combined reward of the best attempt, and of what it had to beat (the baseline, or its own control). */
  reward: number;
  baseline: number;
  gain: number;
  /** The winning completion, shortened to 200 characters. */
  example: string;
  /** Id of the sample where the gain was largest. */
  sample: string;
  /** Samples on which the strategy won, out of the samples probed. */
  wins: number;
  samples: number;
  /** On the example's sample: how many of the strategy's attempts won, out of how many (e.g. 9 of 11 exit tricks). */
  attemptsWon: number;
  attempts: number;
}

/** One probed sample: its baseline's reward, and the reward of its own completion when that is a right answer. */
export interface ProbedSample {
  id: string;
  baseline: number | null;
  right: number | null;
}

export interface ProbeReport {
  findings: ProbeFinding[];
  /** Attempts scored (every completion of every strategy on every sample). */
  tried: number;
  samples: ProbedSample[];
  /** Attempts whose combined reward was null (not comparable, never a finding). */
  nullRewards: number;
  /** Attempts on which a grader reported an error. */
  graderErrors: number;
  /** Things the reader should know (samples skipped, a baseline paid as much as the right answer …). */
  notes: string[];
}

/** Shortens a completion for a report: the head, and how much was cut. */
export function shorten(s: string, max = 200): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}…(+${(s.length - max).toLocaleString('en-US')} chars)`;
}

/**
 * One sample per distinct (prompt, reference): the first rollout of it whose completion contains the
 * reference text (a right answer, so its layout can be reused), else its first rollout. At most `max`.
 */
export function selectSamples(rollouts: readonly Rollout[], max: number): Rollout[] {
  const byKey = new Map<string, Rollout>();
  for (const r of rollouts) {
    const key = `${promptText(r)}\u0000${JSON.stringify(r.reference ?? null)}`;
    const have = byKey.get(key);
    if (!have) {
      if (byKey.size < max) byKey.set(key, r);
      continue;
    }
    if (!isRight(have) && isRight(r)) byKey.set(key, r);
  }
  return [...byKey.values()];
}

function completionText(r: Rollout): string {
  return typeof r.completion === 'string' || Array.isArray(r.completion) ? textOf(r.completion, 'completion') : '';
}

/** Whether the sample's completion contains its reference text. */
function isRight(r: Rollout): boolean {
  const c = completionText(r);
  return referenceStrings(r.reference).some((ref) => ref.trim() !== '' && c.includes(ref));
}

interface Scored {
  reward: number | null;
  components: Record<string, number | null>;
  errors: { component: string; message: string }[];
}

/** Scores completions for one sample, each as its own rollout and group, in batches. */
async function scoreCompletions(compiled: CompiledSpec, sample: Rollout, completions: readonly string[], batchSize: number): Promise<Scored[]> {
  const out: Scored[] = [];
  for (let at = 0; at < completions.length; at += batchSize) {
    const rollouts: Rollout[] = completions.slice(at, at + batchSize).map((completion, j) => {
      const id = `probe:${sample.id}:${at + j}`;
      const r: Rollout = { id, group: id, completion };
      if (sample.prompt !== undefined) r.prompt = sample.prompt;
      if (sample.reference !== undefined) r.reference = sample.reference;
      if (sample.meta !== undefined) r.meta = sample.meta;
      return r;
    });
    const { results } = await scoreBatch(compiled, rollouts, { slim: true });
    for (const r of results as ScoredRollout[]) out.push({ reward: r.reward, components: r.components, errors: r.errors ?? [] });
  }
  return out;
}

/** Components whose value rose from `control` to `attempt` (`name=null` when one went from a number to null). */
function roseIn(attempt: Scored, control: Scored, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const a = attempt.components[n] ?? null;
    const c = control.components[n] ?? null;
    if (a !== null && c !== null && a > c + FINDING_EPSILON) out.push(n);
    else if (a !== null && c === null) out.push(n);
    else if (a === null && c !== null) out.push(`${n}=null`);
  }
  return out;
}

/**
 * Probes a compiled spec with sample rollouts (a prompt and a reference each; a right completion
 * helps the baseline copy its layout): tries every applicable strategy and returns the findings —
 * strategies whose combined reward beats the plain wrong answer (or their own control) — sorted by
 * gain. Only rollout-scoped components are probed; each attempt is scored as its own group, so
 * group-relative shapers and group graders see groups of one.
 *
 * @example
 * const compiled = compileSpec(parseSpec({ components: [{ name: 'has', grader: 'contains' }] }));
 * const report = await probeSpec(compiled, [{ id: 'q', prompt: 'What is 2 + 2?', completion: '4', reference: '4' }]);
 * report.findings[0] // → { strategy: 'spray-integers', component: 'has', reward: 1, baseline: 0, gain: 1, … }
 */
export async function probeSpec(compiled: CompiledSpec, samples: readonly Rollout[], opts: ProbeOptions = {}): Promise<ProbeReport> {
  const components: ProbedComponent[] = probedComponents(compiled.spec);
  const picked = selectSamples(samples, opts.maxRollouts ?? 8);
  const plan = strategiesFor(components, opts.strategies ?? STRATEGIES);
  const hugeChars = opts.hugeChars ?? 1_000_000;
  const batchSize = opts.batchSize ?? 32;
  const notes: string[] = [];
  const probed: ProbedSample[] = [];
  const best = new Map<string, ProbeFinding>();
  let tried = 0;
  let nullRewards = 0;
  let graderErrors = 0;
  const firstError = new Map<string, string>();
  // Stateful shapers (meanstd, minmax, clip) normalise by statistics of every batch seen so far: a
  // reward from one batch is not comparable with one from another. Each sample's completions are
  // scored in a single batch from the same saved state (within one batch these shapers are monotone,
  // so the order of rewards is the order before shaping), and the spec's state is restored after.
  const shaperState = compiled.shapers?.save() ?? null;
  const stateful = shaperState !== null && shaperState.some((st) => st !== null);

  try {
    for (const sample of picked) {
      const baseline = buildBaseline(sample, components);
      const prompt = promptText(sample);
      const index = new Map<string, number>();
      const texts: string[] = [];
      const slot = (c: string) => {
        let k = index.get(c);
        if (k === undefined) {
          k = texts.length;
          index.set(c, k);
          texts.push(c);
        }
        return k;
      };
      const alternatives = baseline.alternatives.map(slot);
      const right = isRight(sample) ? slot(completionText(sample)) : -1;
      const entries = plan.map((p) => {
        let attempts: Attempt[] = [];
        try {
          attempts = p.strategy.build({ sample, prompt, baseline, component: p.component, components, hugeChars });
        } catch (e) {
          notes.push(`sample "${sample.id}": strategy ${p.strategy.name} could not build its attempts (${e instanceof Error ? e.message : String(e)})`);
        }
        return { ...p, attempts: attempts.map((a) => ({ at: slot(a.completion), control: a.control === undefined ? -1 : slot(a.control) })) };
      });
      if (stateful) compiled.shapers!.load(shaperState);
      const scored = await scoreCompletions(compiled, sample, texts, stateful ? Math.max(1, texts.length) : batchSize);
      // The baseline is the best-paid plain wrong answer (null only when all are null).
      const baseSlot = alternatives.reduce((b, k) => ((scored[k]!.reward ?? -Infinity) > (scored[b]!.reward ?? -Infinity) ? k : b), alternatives[0]!);
      const base = scored[baseSlot]!;
      probed.push({ id: sample.id, baseline: base.reward, right: right >= 0 ? scored[right]!.reward : null });
      if (base.reward === null) {
        notes.push(`sample "${sample.id}": the plain wrong answer's reward is null, so nothing can be compared to it (skipped)`);
        continue;
      }
      if (right >= 0) {
        const r = scored[right]!.reward;
        if (r !== null && r <= base.reward + FINDING_EPSILON)
          notes.push(`sample "${sample.id}": the plain wrong answer gets ${base.reward}, as much as the sample's right completion (${r}); the reward does not separate them`);
      }
      for (const e of entries) {
        let top: { gain: number; reward: number; control: number; at: number; controlAt: number } | null = null;
        let won = 0;
        for (const attempt of e.attempts) {
          const a = attempt.control < 0 ? { ...attempt, control: baseSlot } : attempt;
          tried++;
          const s = scored[a.at]!;
          if (s.errors.length > 0) {
            graderErrors++;
            for (const err of s.errors) if (!firstError.has(err.component)) firstError.set(err.component, err.message);
          }
          const c = scored[a.control]!;
          if (s.reward === null) {
            nullRewards++;
            continue;
          }
          if (c.reward === null) continue;
          const gain = s.reward - c.reward;
          if (gain > FINDING_EPSILON) won++;
          if (!top || gain > top.gain) top = { gain, reward: s.reward, control: c.reward, at: a.at, controlAt: a.control };
        }
        if (!top || top.gain <= FINDING_EPSILON) continue;
        const key = `${e.strategy.name}\u0000${e.label}`;
        const rose = roseIn(scored[top.at]!, scored[top.controlAt]!, compiled.names);
        const have = best.get(key);
        const finding: ProbeFinding = {
          component: rose.length > 0 ? rose.join(',') : e.label,
          strategy: e.strategy.name,
          reward: top.reward,
          baseline: top.control,
          gain: top.gain,
          example: shorten(texts[top.at]!),
          sample: sample.id,
          wins: (have?.wins ?? 0) + 1,
          samples: 0,
          attemptsWon: won,
          attempts: e.attempts.length,
        };
        best.set(key, have && have.gain >= finding.gain ? { ...have, wins: finding.wins } : finding);
      }
    }
  } finally {
    if (stateful) compiled.shapers!.load(shaperState);
  }
  for (const [component, message] of firstError)
    notes.push(`component "${component}" failed on some attempts (its value was null there, so it was not probed by them), e.g.: ${shorten(message, 160)}`);
  const findings = [...best.values()].map((f) => ({ ...f, samples: probed.length })).sort((a, b) => b.gain - a.gain || a.strategy.localeCompare(b.strategy));
  return { findings, tried, samples: probed, nullRewards, graderErrors, notes };
}
