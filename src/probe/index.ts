/**
 * `rewardkit probe` as a library: the reward-hacking suite. `probeSpec` tries the known exploit
 * strategies of each component's grader kind against a compiled spec and reports each strategy whose
 * reward beats a plain wrong answer.
 *
 * - `baseline.ts` — the plain wrong answer of a sample, in the layout of a right one.
 * - `strategies.ts` — the strategy table (name, kinds, build).
 * - `pattern.ts` — a shortest string matching a regex (for `minimal-pattern`).
 * - `run.ts` — scoring through the pipeline and deciding findings.
 * - this file — the public surface and the built-in samples used without `--in`.
 */
import type { Rollout } from '../rollout/types.js';
import type { ProbedComponent } from './baseline.js';

export { probeSpec, selectSamples, shorten, FINDING_EPSILON, type ProbeOptions, type ProbeFinding, type ProbeReport, type ProbedSample } from './run.js';
export { STRATEGIES, strategiesFor, type Strategy, type StrategyContext, type Attempt } from './strategies.js';
export { buildBaseline, wrongText, wrongJson, wrongJsonVariants, probedComponents, type Baseline, type AnswerLayout, type ProbedComponent } from './baseline.js';
export { minimalMatch } from './pattern.js';

/**
 * Grader kinds whose references are task data the probe cannot invent (tests, databases, tool calls,
 * schemas, forecasts, reference answers scored by a model): a spec using one needs `--in`.
 */
export const KINDS_NEEDING_SAMPLES: readonly string[] = ['code', 'sql', 'tool_call', 'json', 'forecast', 'likelihood', 'dpo_implicit', 'frechet'];

/** The components of a spec that the built-in samples cannot probe (empty when they can). */
export function componentsNeedingSamples(components: readonly ProbedComponent[]): ProbedComponent[] {
  return components.filter((c) => KINDS_NEEDING_SAMPLES.includes(c.grader));
}

/**
 * Samples used when no `--in` file is given: a GSM8K-style word problem (reference "33"), a short
 * factual question ("Paris") and a multiple-choice question ("B"). They carry no completion, so the
 * baseline takes the spec's format tags (or the bare answer) as its layout.
 */
export const BUILTIN_SAMPLES: readonly Rollout[] = [
  {
    id: 'builtin-math',
    prompt: 'Mara picks 14 apples on Monday and twice as many on Tuesday. She gives 9 away. How many apples does she have left?',
    completion: '',
    reference: '33',
  },
  { id: 'builtin-fact', prompt: 'What is the capital of France? Answer with the city name.', completion: '', reference: 'Paris' },
  {
    id: 'builtin-choice',
    prompt: 'Which planet is the largest? (A) Mars (B) Jupiter (C) Venus (D) Earth (E) Mercury. Answer with the letter.',
    completion: '',
    reference: 'B',
  },
];
