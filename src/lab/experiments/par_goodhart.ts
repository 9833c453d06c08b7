/**
 * `par-goodhart` — PAR (Preference As Reward) against the raw proxy reward on a hackable proxy spec.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025, arXiv 2502.18770).
 * Claim: optimising an unbounded proxy reward against a KL-regularised policy hacks the proxy — the
 * true reward first rises, then falls (a Goodhart curve); PAR, `(1/M) Σ_j σ(r − ref_j)` over the
 * proxy scores of reference-policy samples, is bounded and centred, so the policy stops short of the
 * hacks and the true reward holds (mechanics-A §3).
 */
import { AdvantageStep, SoftmaxPolicy } from '../learners/softmax.js';
import { CANDIDATES, CompletionScorer, additionPrompts } from '../envs/completion.js';
import { Rng, softmax } from '../rng.js';
import { claimOnMean, pairedDiff } from '../stats.js';
import { checkRunOptions, checkpoints, column, curveOf, forSeeds } from '../seeds.js';
import type { Experiment, ExperimentResult, RunOptions } from '../types.js';

/**
 * The hackable proxy: a reward-model stand-in built from real graders — the reference appears in
 * the answer (`contains`: beaten by listing several numbers), well-formed `<answer>` tags, and a
 * verbosity bias (`length` in characters, weight 0.005 per character: beaten by padding).
 */
export const PROXY_SPEC = {
  name: 'hackable-proxy',
  components: [
    { name: 'mentions', grader: 'contains', whole_word: true, weight: 1 },
    { name: 'format', grader: 'regex', pattern: '<answer>[\\s\\S]*</answer>', weight: 0.5 },
    { name: 'verbosity', grader: 'length', unit: 'chars', weight: 0.005 },
  ],
  combine: { type: 'weighted_sum' },
};

/** The same proxy with PAR as its shaper (refs: `meta.ref_rewards`, k = 1). */
export const PAR_SPEC = { ...PROXY_SPEC, name: 'hackable-proxy-par', shape: [{ type: 'par', k: 1 }] };

/** The true reward: the exact answer in the last `<answer>` tag. */
export const GOLD_SPEC = { name: 'gold', components: [{ name: 'correct', grader: 'exact' }] };

export const PAR_SETUP = {
  prompts: 8,
  groupSize: 8,
  steps: 300,
  lr: 1,
  every: 10,
  /** KL coefficient β of the per-sample penalty `−β (log π − log π_ref)` added to the reward. */
  beta: 0.25,
  /** Reference samples per prompt (PAR's reward_maxref = 10). */
  refs: 10,
  /** Reference-policy probabilities per candidate kind, in {@link CANDIDATES} order. */
  reference: [0.3, 0.3, 0.2, 0.1, 0.04, 0.03, 0.03],
};

/** What one training run reports. */
export interface ParRun {
  /** Expected true (gold) reward of the policy per checkpoint. */
  gold: Float64Array;
  /** Expected raw proxy reward per checkpoint. */
  proxy: Float64Array;
  /** Probability mass on the three hacks per checkpoint. */
  hacks: Float64Array;
  peakGold: number;
  finalGold: number;
  envSteps: number;
  /** Distinct completions scored through the specs. */
  scored: number;
}

/** Logits of the reference policy for every prompt (its probabilities jittered ±20 % per seed). */
function referenceLogits(rng: Rng, P: number): Float64Array {
  const C = CANDIDATES.length;
  const th = new Float64Array(P * C);
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) th[p * C + c] = Math.log(PAR_SETUP.reference[c] * (0.8 + 0.4 * rng.next()));
  return th;
}

/**
 * Trains the completion policy (one softmax over the 7 candidates per prompt, starting at the
 * reference policy) against the proxy spec, or the proxy spec with PAR (`par: true`), with RLOO
 * advantages of `reward − β·(log π − log π_ref)`. Every sampled completion is scored through the spec.
 */
export async function trainPar(par: boolean, seed: number): Promise<ParRun> {
  const { prompts: P, groupSize: G, steps, lr, every, beta, refs: M } = PAR_SETUP;
  const C = CANDIDATES.length;
  const prompts = additionPrompts(P);
  const rng = new Rng(seed);
  const refLogits = referenceLogits(new Rng(seed * 31 + 7), P);
  const ref = new SoftmaxPolicy(P, C, refLogits);
  const refLogProb = new Float64Array(P * C);
  for (let i = 0; i < P * C; i++) refLogProb[i] = Math.log(ref.probs[i]);
  // PAR's references: the proxy scores of M reference-policy samples per prompt.
  const raw = new CompletionScorer(PROXY_SPEC, prompts);
  const gold = new CompletionScorer(GOLD_SPEC, prompts);
  const refSamples = new Int32Array(P * M), refPrompt = new Int32Array(P * M);
  const refRng = new Rng(seed * 31 + 11);
  for (let p = 0; p < P; p++) for (let j = 0; j < M; j++) {
    refPrompt[p * M + j] = p;
    refSamples[p * M + j] = ref.sample(p, refRng);
  }
  const refScores = await raw.scoreSampled(refPrompt, refSamples, P * M, new Float64Array(P * M));
  const scorer = par ? new CompletionScorer(PAR_SPEC, prompts, (p) => ({ ref_rewards: Array.from(refScores.subarray(p * M, (p + 1) * M)) })) : raw;
  try {
    const goldTable = await gold.table();
    const proxyTable = await raw.table();
    const pi = new SoftmaxPolicy(P, C, refLogits);
    const adv = new AdvantageStep({ estimator: 'rloo' }, P, G);
    const sp = new Int32Array(P * G), sc = new Int32Array(P * G), shaped = new Float64Array(P * G);
    const xs = checkpoints(steps, every);
    const goldCurve = new Float64Array(xs.length), proxyCurve = new Float64Array(xs.length), hackCurve = new Float64Array(xs.length);
    const expect = (table: Float64Array) => {
      let v = 0;
      for (let i = 0; i < P * C; i++) v += pi.probs[i] * table[i];
      return v / P;
    };
    let ci = 0;
    for (let t = 0; t <= steps; t++) {
      if (xs[ci] === t) {
        pi.refresh();
        goldCurve[ci] = expect(goldTable);
        proxyCurve[ci] = expect(proxyTable);
        let h = 0;
        for (let p = 0; p < P; p++) for (let c = 4; c < C; c++) h += pi.probs[p * C + c];
        hackCurve[ci] = h / P;
        ci++;
      }
      if (t === steps) break;
      pi.beginBatch();
      for (let p = 0; p < P; p++) for (let j = 0; j < G; j++) {
        sp[p * G + j] = p;
        sc[p * G + j] = pi.sample(p, rng);
      }
      await scorer.scoreSampled(sp, sc, P * G, shaped);
      for (let i = 0; i < P * G; i++) {
        const k = sp[i] * C + sc[i];
        adv.rewards[i] = shaped[i] - beta * (Math.log(pi.probs[k]) - refLogProb[k]);
      }
      const A = adv.compute();
      for (let i = 0; i < P * G; i++) pi.accumulate(sp[i], sc[i], A[i]);
      pi.countSample(P * G);
      pi.step(lr);
    }
    let peak = -Infinity;
    for (const v of goldCurve) peak = Math.max(peak, v);
    return { gold: goldCurve, proxy: proxyCurve, hacks: hackCurve, peakGold: peak, finalGold: goldCurve[goldCurve.length - 1], envSteps: steps * P * G, scored: raw.scored + gold.scored + (par ? scorer.scored : 0) };
  } finally {
    await raw.close();
    await gold.close();
    if (par) await scorer.close();
  }
}

const variants = {
  'no-par': 'the PAR arm trains on the raw proxy (the par shaper removed from its spec): the PAR claims must fail',
};

export const parGoodhart: Experiment = {
  name: 'par-goodhart',
  title: 'PAR vs the raw proxy reward on a hackable proxy spec: the Goodhart curve',
  paper: 'Reward Shaping to Mitigate Reward Hacking in RLHF (Fu et al., 2025, arXiv 2502.18770)',
  description:
    'The completion toy: 8 addition prompts, 7 candidate completions each (right, wrong, no answer, format-only, and three hacks: ' +
    'number spam, padding + wrong answer, padding + spam), scored by a real hackable rewardkit spec (contains + format regex + a ' +
    'length bias) and by a gold spec (exact answer). A softmax policy starting at a reference policy is trained with RLOO on ' +
    'reward − 0.25·(log π − log π_ref), once on the raw proxy and once on the same spec with the `par` shaper (refs: the proxy scores of ' +
    '10 reference samples per prompt). Claims: without PAR the true reward falls from its peak; with PAR it ends higher and holds.',
  defaultSeeds: 10,
  variants,
  async run(opts: RunOptions): Promise<ExperimentResult> {
    const t0 = performance.now();
    const { seeds, seed0, variant } = checkRunOptions(parGoodhart, opts);
    const usePar = variant !== 'no-par';
    const runs = await forSeeds(opts, seeds, seed0, async (seed) => ({ par: await trainPar(usePar, seed), raw: await trainPar(false, seed) }));
    const x = checkpoints(PAR_SETUP.steps, PAR_SETUP.every);
    const lab = usePar ? 'PAR' : 'PAR arm (raw proxy)';
    return {
      experiment: parGoodhart.name,
      paper: parGoodhart.paper,
      seeds,
      ...(variant ? { variant } : {}),
      claims: [
        claimOnMean('Without PAR the true reward falls: the raw proxy is hacked (a Goodhart curve)', 'peak − final expected true reward, raw proxy', pairedDiff(column(runs, (r) => r.raw.peakGold), column(runs, (r) => r.raw.finalGold)), 'greater', 0.1),
        claimOnMean('With PAR the true reward ends higher than with the raw proxy', 'final expected true reward, PAR − raw, paired by seed', pairedDiff(column(runs, (r) => r.par.finalGold), column(runs, (r) => r.raw.finalGold)), 'greater'),
        claimOnMean('With PAR the true reward holds: it ends within 0.05 of its peak', 'peak − final expected true reward, PAR', pairedDiff(column(runs, (r) => r.par.peakGold), column(runs, (r) => r.par.finalGold)), 'less', 0.05),
      ],
      curves: [
        curveOf(lab, 'true reward', 'training step', 'expected true reward (exact answer)', x, runs.map((r) => r.par.gold)),
        curveOf('raw proxy', 'true reward', 'training step', 'expected true reward (exact answer)', x, runs.map((r) => r.raw.gold)),
        curveOf(lab, 'proxy reward', 'training step', 'expected raw proxy reward', x, runs.map((r) => r.par.proxy)),
        curveOf('raw proxy', 'proxy reward', 'training step', 'expected raw proxy reward', x, runs.map((r) => r.raw.proxy)),
        curveOf(lab, 'hack share', 'training step', 'probability of a hack completion', x, runs.map((r) => r.par.hacks)),
        curveOf('raw proxy', 'hack share', 'training step', 'probability of a hack completion', x, runs.map((r) => r.raw.hacks)),
      ],
      envSteps: runs.reduce((s, r) => s + r.par.envSteps + r.raw.envSteps, 0),
      wallMs: performance.now() - t0,
    };
  },
};
