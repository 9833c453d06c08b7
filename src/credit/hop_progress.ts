import * as z from 'zod';
import {
  baseStepRewards,
  checkStepBatch,
  defineCredit,
  discountedReturns,
  missingStepValue,
  newOutput,
  outcomeParam,
  signalOf,
  stepAdvantage,
  stepAdvantageParam,
  whitenParam,
} from './types.js';

/** How a GRM hop of one step is read: what the model compared (Robo-Dopamine's three prediction modes). */
export type HopMode = 'incremental' | 'forward' | 'backward';

/**
 * Robo-Dopamine's hop label — the training target of its General Reward Model — for a pair of states
 * with ground-truth progress `before` → `after` on an episode running from `start` to `end`
 * (FlagOpen/Robo-Dopamine `dataset/utils/1_generate_data.py::format_score_tag` [SRC]; the code passes
 * frame indices, the paper progress values — the label is the same for progress linear in the index):
 *
 *   H = (after − before)/(end − before)   if after > before   (progress, relative to what remained)
 *   H = (after − before)/(before − start) if after < before   (regress, relative to what was achieved)
 *   H = 0                                  if after = before, or the denominator is 0
 *
 * H ∈ [−1, 1] for states inside [start, end]. The authors write it as a percentage with one decimal
 * (`<score>+50.0%</score>`) and bin it into 25 bins over [−100, 100] for balanced sampling.
 *
 * @example
 * hopLabel(0.2, 0.6) // → 0.5   (0.4 of the remaining 0.8)
 * hopLabel(0.6, 0.3) // → −0.5  (lost 0.3 of the 0.6 achieved)
 */
export function hopLabel(before: number, after: number, start = 0, end = 1): number {
  if (after === before) return 0;
  const den = after > before ? end - before : before - start;
  return den === 0 ? 0 : (after - before) / den;
}

/**
 * Global progress after each step from the GRM's per-step outputs `hops` (each in [−1, 1], clamped),
 * starting from Φ(s_0) = 0, as Robo-Dopamine's inference post-processing reads each mode
 * (FlagOpen/Robo-Dopamine `examples/inference.py::run_pipeline` [SRC]):
 * - `incremental` (BEFORE = previous state): Φ' = Φ + (1 − Φ)·h for h ≥ 0, Φ' = Φ + Φ·h for h < 0 —
 *   the inverse of {@link hopLabel}, so Φ stays in [0, 1]. (The authors' code takes Φ(s_1) = h for the
 *   first step even when h < 0; here the recurrence applies there too, giving 0.)
 * - `forward` (BEFORE = the initial state): Φ' = h, the hop from s_0 is the progress itself.
 * - `backward` (BEFORE = the goal): Φ' = 1 + h.
 * Returns Φ(s_1) … Φ(s_T) in `out` (length = hops).
 *
 * @example
 * reconstructProgress([0.3, 4 / 7, 1], 'incremental') // → [0.3, 0.7, 1]
 * reconstructProgress([-0.7, -0.3, 0], 'backward')     // → [0.3, 0.7, 1]
 */
export function reconstructProgress(hops: ArrayLike<number>, mode: HopMode, out = new Float64Array(hops.length)): Float64Array {
  let phi = 0;
  for (let t = 0; t < hops.length; t++) {
    const h = Math.max(-1, Math.min(1, hops[t]!));
    if (mode === 'incremental') phi = h >= 0 ? phi + (1 - phi) * h : phi + phi * h;
    else if (mode === 'forward') phi = h;
    else phi = 1 + h;
    out[t] = phi;
  }
  return out;
}

const signalEntry = z.strictObject({
  signal: z.string().min(1).describe('Step signal with the GRM output for the step (e.g. a step-scoped judge reading `<score>+NN%</score>`).'),
  mode: z.enum(['incremental', 'forward', 'backward']).default('incremental').describe('What the GRM compared for this signal: `incremental` (previous state → this step’s state), `forward` (initial state → it), `backward` (goal → it).'),
});

/**
 * `hop_progress` — Robo-Dopamine's Dopamine-Reward in a multi-turn flow ("Robo-Dopamine: General
 * Process Reward Modeling for High-Precision Robotic Manipulation", Tan et al., arXiv 2512.23703;
 * numerics [SRC] FlagOpen/Robo-Dopamine `examples/inference.py`, mechanics-B §20). A step-scoped
 * grader (the GRM, e.g. a judge) gives each step t a hop h_t in [−1, 1] (`scale: 100` for the GRM's
 * percent output; values are clamped to [−1, 1] as the authors do). The hops are turned into global
 * progress Φ*(s_{t+1}) with {@link reconstructProgress} per signal, and several signals (the
 * incremental, forward- and backward-anchored predictions — Multi-Perspective Progress Fusion) are
 * averaged, as the authors recommend. Φ*(s_0) = 0.
 *
 * Policy-invariant shaping (Dopamine-RL): each step's reward becomes r'_t = r_t + γ·Φ*(s_{t+1}) − Φ*(s_t),
 * r_t the step's given reward (missing = 0) plus, with `outcome: last_step`, the episode reward on the
 * last step. `terminal: progress` (default) keeps the reconstructed Φ*(s_T) for the state after the
 * last step, as the reference worked example does; the shaped return is then the original return +
 * γ^T·Φ*(s_T), so with γ = 1 it depends on where the episode ends, never on how it wandered there.
 * `terminal: zero` sets Φ(s_T) = 0 (Ng et al.'s strict invariance: the shaped return equals the
 * original). Either way a policy cannot earn by hovering at high progress (the "semantic trap" of
 * rewarding raw progress every step): a step that regresses pays back exactly what was gained.
 *
 * Missing hops (a step the GRM could not judge): `on_missing: min` (default) counts it as h = −1, the
 * worst hop (full regress for incremental), so "cannot judge" never pays more than a judged regress;
 * `zero` counts it as no change (the authors' parse-failure fallback, 0); `error` rejects the batch.
 * Rollouts with a null outcome are voided (NaN) as in every credit method.
 *
 * @example
 * # spec: credit {method: hop_progress, signals: [{signal: grm}], gamma: 0.99}
 * # hops [0.3, 4/7, 1] → Φ* = [0, 0.3, 0.7, 1]; step rewards [0, 0, 1] → shaped [0.297, 0.393, 1.29]
 */
export const hopProgressCredit = defineCredit({
  method: 'hop_progress',
  summary: 'Robo-Dopamine: GRM hops → global progress Φ* (incremental/forward/backward, fused by mean) → r + γΦ*(s′) − Φ*(s).',
  params: {
    signals: z.array(signalEntry).min(1).describe('The GRM outputs per step, one entry per prediction mode; their reconstructed progress is averaged.'),
    scale: z.number().positive().default(1).describe('Divide the signals by this before clamping to [−1, 1] (100 for the GRM’s percent output).'),
    gamma: z.number().gt(0).lte(1).default(1).describe('Discount γ of the shaping term and of the return.'),
    terminal: z.enum(['progress', 'zero']).default('progress').describe('Φ of the state after the last step: the reconstructed progress (default, the reference example) or 0 (strict policy invariance).'),
    on_missing: z.enum(['min', 'zero', 'error']).default('min').describe('A step without a hop: the worst hop −1 (default), no change (the authors’ parse-failure 0), or an error.'),
    outcome: outcomeParam,
    advantage: stepAdvantageParam,
    whiten: whitenParam,
  },
  signals: (p) => p.signals.map((s, i) => ({ param: `signals[${i}].signal`, signal: s.signal })),
  create(p) {
    const advantage = stepAdvantage(p.advantage, p.gamma, p.whiten);
    const g = p.gamma;
    return {
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        const r = baseStepRewards(b, p.outcome, out.reward);
        const cols = p.signals.map((s, i) => signalOf(b, s.signal, `signals[${i}].signal`));
        const { offsets } = b;
        const n = b.outcome.length;
        const total = offsets[n]!;
        const phi = new Float64Array(total); // Φ*(s_{t+1}) per step, fused
        const hops = new Float64Array(total);
        const rec = new Float64Array(total);
        for (let m = 0; m < cols.length; m++) {
          const col = cols[m]!;
          for (let i = 0; i < n; i++) {
            if (b.outcome[i] !== b.outcome[i]) continue;
            for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
              const v = col[k]!;
              if (v === v) hops[k] = v / p.scale;
              else if (p.on_missing === 'error') throw missingStepValue(b, k, `hop for signal "${p.signals[m]!.signal}" (credit.signals[${m}].signal)`, 'hop_progress needs one on every step (on_missing: min or zero to allow gaps)');
              else hops[k] = p.on_missing === 'min' ? -1 : 0;
            }
            const s = offsets[i]!;
            const e = offsets[i + 1]!;
            reconstructProgress(hops.subarray(s, e), p.signals[m]!.mode, rec.subarray(s, e));
            for (let k = s; k < e; k++) phi[k] += rec[k]! / cols.length;
          }
        }
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          const s = offsets[i]!;
          const e = offsets[i + 1]!;
          for (let k = s; k < e; k++) {
            const before = k === s ? 0 : phi[k - 1]!;
            const after = k === e - 1 && p.terminal === 'zero' ? 0 : phi[k]!;
            r[k] += g * after - before;
          }
        }
        discountedReturns(b, r, g, out.returns, b.outcome);
        if (p.outcome === 'ignore') for (let i = 0; i < n; i++) if (offsets[i + 1] === offsets[i] && out.returns[i] === out.returns[i]) out.returns[i] = 0;
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});
