import * as z from 'zod';
import { defineGrader, type Graded } from './types.js';

/** Pair weights and penalties of one comparison, for details and tests. */
export interface PairPenalty {
  /** The reward max(0, 1 − Σpenalty/Σweight); null when the reference ranks fewer than two models. */
  reward: number | null;
  penalty: number;
  weight: number;
  /** Reference models the prediction gave no numeric score. */
  missing: string[];
  /** Pairs with the sign reversed. */
  reversed: number;
  /** Pairs predicted tied where the reference is not. */
  tied: number;
}

/**
 * RewardAnything's weighted pair penalty (zhuohaoyu/RewardAnything `rewardanything/processing.py`,
 * `calculate_weighted_pair_penalty` [SRC]), over the pairs of reference models: each pair (a, b) has
 * weight `w = 1 + |gt_a − gt_b|`; its penalty is `w` when the predicted order is reversed
 * (`(pred_a − pred_b)·(gt_a − gt_b) < 0`), `0.5·w` when the prediction ties a pair the reference does
 * not, else 0 (a prediction that orders a reference tie costs nothing). Reward = `max(0, 1 − Σpenalty/Σw)`.
 *
 * `coverage: penalize` (default, the project's choice): a reference model without a finite numeric
 * predicted score makes every pair it is in count as reversed (penalty w) — leaving out the models
 * one is unsure of, or scoring them `"n/a"`, cannot raise the reward. `coverage: common` compares only
 * the models both sides score (the authors' rule); there, fewer than two common models gives 0 (the
 * authors return 1.0, which pays an empty prediction in full). A reference with fewer than two models
 * cannot rank anything: reward null.
 *
 * @example
 * weightedPairPenalty({ a: 5, b: 3, c: 3 }, { a: 4, b: 2, c: 5 }).reward // → 1 − 4/9 = 0.5556
 * // (a,b) w=3 in order; (a,c) w=2 reversed → 2; (b,c) w=4 predicted tie → 2
 */
export function weightedPairPenalty(
  pred: Readonly<Record<string, unknown>>,
  gt: Readonly<Record<string, number>>,
  coverage: 'penalize' | 'common' = 'penalize',
): PairPenalty {
  const names = Object.keys(gt);
  const predOf = (m: string): number => {
    const v = Object.hasOwn(pred, m) ? pred[m] : undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
  };
  const missing = names.filter((m) => predOf(m) !== predOf(m));
  const used = coverage === 'common' ? names.filter((m) => predOf(m) === predOf(m)) : names;
  const out: PairPenalty = { reward: null, penalty: 0, weight: 0, missing, reversed: 0, tied: 0 };
  if (names.length < 2) return out;
  if (used.length < 2) return { ...out, reward: 0 };
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) {
      const a = used[i]!;
      const b = used[j]!;
      const gd = gt[a]! - gt[b]!;
      const w = 1 + Math.abs(gd);
      const pd = predOf(a) - predOf(b);
      out.weight += w;
      if (pd !== pd || pd * gd < 0) {
        out.penalty += w;
        out.reversed++;
      } else if (pd === 0 && gd !== 0) {
        out.penalty += 0.5 * w;
        out.tied++;
      }
    }
  }
  out.reward = Math.max(0, 1 - out.penalty / out.weight);
  return out;
}

/**
 * The JSON object of a RewardAnything-style reply: the text after any `<think>…</think>` block, with
 * markdown code fences removed, parsed as JSON; failing that, the text from the first `{` to the last
 * `}` (the authors' bracket fallback). The authors' quote-repair step is not reproduced (a reply that
 * needs it is unreadable here). Null when no object can be read.
 *
 * @example
 * readRankingJson('<think>b is best</think>```json\n{"scores": {"a": 2, "b": 5}}\n```') // → {scores: {a: 2, b: 5}}
 */
export function readRankingJson(text: string): Record<string, unknown> | null {
  let body = text;
  const close = body.lastIndexOf('</think>');
  if (close >= 0) body = body.slice(close + '</think>'.length);
  else if (body.includes('<think>')) return null; // unclosed reasoning: no reply yet
  body = body.replaceAll('```json', '').replaceAll('```', '').trim();
  const tryParse = (s: string): Record<string, unknown> | null => {
    try {
      const v: unknown = JSON.parse(s);
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const direct = tryParse(body);
  if (direct) return direct;
  const first = body.indexOf('{');
  const last = body.lastIndexOf('}');
  return first >= 0 && last > first ? tryParse(body.slice(first, last + 1)) : null;
}

/** The reference's per-model scores: `{scores: {model: number}}` or `{model: number}`, or a JSON string of either; null when unusable. */
function referenceScores(ref: unknown): Record<string, number> | null {
  let v = ref;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const obj = v as Record<string, unknown>;
  const scores = 'scores' in obj ? obj.scores : obj;
  if (scores === null || typeof scores !== 'object' || Array.isArray(scores)) return null;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(scores as Record<string, unknown>)) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    out[k] = x;
  }
  return out;
}

/**
 * `pair_penalty` — RewardAnything's GRPO reward for training a listwise, principle-following reward
 * model ("RewardAnything: Generalizable Principle-Following Reward Models", Yu et al. 2025; numerics
 * [SRC] zhuohaoyu/RewardAnything `processing.py::calculate_weighted_pair_penalty`, mechanics-B §8).
 * The completion is the RM's reply — `<think>…</think>` then JSON `{"scores": {"model-1": 1..5, …},
 * "best-to-worst": [...]}` — and the reference holds the ground-truth scores (`{scores: {…}}` or a bare
 * `{model: score}` map). Reward `max(0, 1 − Σpenalty/Σw)` over model pairs, `w = 1 + |gt_a − gt_b|`,
 * penalty w for a reversed pair and w/2 for a predicted tie (see {@link weightedPairPenalty}). In [0, 1]:
 * 1 for any prediction that orders every reference pair as the reference does (invariant to monotone
 * rescaling of the predicted scores), 0 for a fully reversed one.
 *
 * Hostile policy: an empty or partial `scores` object does not pay (`coverage: penalize`, default:
 * every pair with an unscored reference model counts as reversed; the authors' `common` rule is
 * available, with 0 instead of their 1.0 when fewer than two models are shared). Scoring every model
 * the same earns exactly the tie credit, 0.5 when the reference has no ties. Null rule: a reply with
 * no readable JSON object, or without a `scores` object, is a wrong answer (0, `details.reason`);
 * no reference, an unusable one, or one with fewer than two models → null.
 * Details: `{penalty, weight, reversed, tied, missing}`.
 *
 * @example
 * # spec
 * - {name: ranking, grader: pair_penalty}
 * # reference {"scores": {"a": 4, "b": 2, "c": 5}}; completion '<think>…</think>{"scores": {"a": 5, "b": 3, "c": 3}}'
 * # → 1 − 4/9 = 0.5556
 */
export const pairPenaltyGrader = defineGrader({
  kind: 'pair_penalty',
  summary: 'RewardAnything weighted pair penalty: 1 − Σ penalties/Σ (1 + |Δgt|) over the pairs of a listwise RM reply’s scores vs the reference scores.',
  params: {
    coverage: z
      .enum(['penalize', 'common'])
      .default('penalize')
      .describe('`penalize` (default): a reference model the reply does not score makes its pairs count as reversed; `common`: only models both sides score are compared (the authors’ rule; fewer than two shared → 0).'),
  },
  create(params) {
    return {
      scope: 'rollout',
      grade(s): Graded {
        const gt = referenceScores(s.reference);
        if (gt === null) return { score: null, details: { reason: 'no usable reference scores ({scores: {model: number}})' } };
        if (Object.keys(gt).length < 2) return { score: null, details: { reason: 'the reference scores fewer than two models' } };
        const reply = readRankingJson(s.completion);
        if (reply === null) return { score: 0, details: { reason: 'no JSON object in the reply' } };
        const scores = reply.scores;
        if (scores === null || typeof scores !== 'object' || Array.isArray(scores)) return { score: 0, details: { reason: 'the reply has no "scores" object' } };
        const r = weightedPairPenalty(scores as Record<string, unknown>, gt, params.coverage);
        return { score: r.reward, details: { penalty: r.penalty, weight: r.weight, reversed: r.reversed, tied: r.tied, missing: r.missing } };
      },
    };
  },
});
