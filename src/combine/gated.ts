import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { defineCombiner } from './types.js';
import { componentIndex, finishSum } from './terms.js';

const levelSchema = z
  .strictObject({
    gate: z.string().describe('Component whose raw value is compared with the threshold.'),
    threshold: z.number().describe('The gate passes when its value is ≥ this (a null gate fails).'),
  })
  .describe('One gate: lower-priority components count only when this gate passes.');

/**
 * `gated` — Gated Reward Accumulation (G-RA; Sun et al. 2025, "Stabilizing Long-term Multi-turn
 * Reinforcement Learning with Gated Rewards", arXiv 2508.10548). The gate is the high-priority
 * (outcome) reward; every other component is a low-priority reward that accumulates only when the
 * gate's raw value reaches the threshold:
 * `R = w_g·g + 1[g ≥ δ]·Σ_{k≠g} w_k·c_k`. The gate itself always counts.
 *
 * More levels (`levels`, highest priority first; `gate`/`threshold`, when given, is the first level):
 * gate j counts only if every higher-priority gate passes, and the remaining components only if all
 * gates pass — the paper's general form `g_k = Π_{j higher} 1[R_j ≥ δ_j]`.
 *
 * Guarantee (anti-hacking): a rollout whose first gate fails gets exactly that gate's weighted value,
 * whatever its other components are, so no low-priority reward can raise it. With a non-negative gate
 * weight and non-negative gated components, R is non-decreasing in the gate value.
 *
 * Nulls: a null gate fails. The on_null policy applies to the terms that count (the gates reached and,
 * when all pass, the rest): `exclude` (default) sums the present ones (a null term adds 0), while
 * `renormalize` rescales among them (warning: can pay for a null). A rollout whose first gate is null
 * gets a null reward (0 under `zero`): it cannot be judged, so it gets advantage 0 and never the gated
 * terms. Other components with weight 0 are not read.
 *
 * The paper's SWE setting gates step rewards on discrete outcome values (no submit < empty patch <
 * failed tests < passed tests; the values are config inputs) with δ between "empty patch" and
 * "failed tests": a submitted patch that fails tests still earns its step rewards.
 *
 * @example
 * # spec
 * components:
 *   - {name: outcome, grader: tests}
 *   - {name: step1, grader: judge}
 *   - {name: step2, grader: judge}
 * combine: {type: gated, gate: outcome, threshold: 0}
 * # step1 = 0.2, step2 = 0.3: outcome = -1 → -1 (gated off); outcome = 1 → 1 + 0.2 + 0.3 = 1.5
 */
export const gatedCombiner = defineCombiner({
  type: 'gated',
  summary: 'Gated reward accumulation (G-RA): other components count only when the gate component reaches its threshold.',
  params: {
    gate: z.string().optional().describe('Gate component (the highest-priority level); its own weighted value always counts.'),
    threshold: z.number().optional().describe('The gate passes when its value is ≥ this; required with `gate`.'),
    levels: z
      .array(levelSchema)
      .optional()
      .describe('Further gates, highest priority first (after `gate`, if given); each counts only when all higher ones pass.'),
  },
  create(params, ctx) {
    const gates: { k: number; threshold: number; param: string }[] = [];
    if (params.gate !== undefined) {
      if (params.threshold === undefined) throw new ParamError('threshold', 'a gate needs a threshold (the gate passes when its value is ≥ threshold)');
      gates.push({ k: componentIndex(ctx, 'gate', params.gate), threshold: params.threshold, param: 'gate' });
    } else if (params.threshold !== undefined) {
      throw new ParamError('threshold', 'threshold is given without a gate; name the gate component with `gate`');
    }
    (params.levels ?? []).forEach((l, i) => {
      gates.push({ k: componentIndex(ctx, `levels.${i}.gate`, l.gate), threshold: l.threshold, param: `levels.${i}.gate` });
    });
    if (gates.length === 0) throw new ParamError('gate', 'gated needs a gate: give `gate` and `threshold`, or `levels: [{gate, threshold}, …]`');
    const seen = new Set<number>();
    for (const g of gates) {
      if (seen.has(g.k)) throw new ParamError(g.param, `component ${JSON.stringify(ctx.names[g.k])} is used as a gate twice`);
      seen.add(g.k);
    }

    // Terms in priority order: the gates, then every other nonzero-weight component. What counts is
    // always a prefix of this order, which keeps combine() a single pass over typed arrays.
    const order: number[] = gates.map((g) => g.k);
    for (let k = 0; k < ctx.names.length; k++) if (!seen.has(k) && ctx.weights[k] !== 0) order.push(k);
    const idx = Int32Array.from(order);
    const w = Float64Array.from(order, (k) => ctx.weights[k]);
    const thr = Float64Array.from(gates, (g) => g.threshold);
    const nGates = gates.length;
    const policy = params.on_null;

    return {
      combine(row) {
        let sum = 0;
        let absAll = 0;
        let absPresent = 0;
        let nNull = 0;
        let n = 0;
        for (; n < idx.length; n++) {
          const v = row[idx[n]];
          const a = Math.abs(w[n]);
          absAll += a;
          if (Number.isNaN(v)) nNull++;
          else {
            sum += w[n] * v;
            absPresent += a;
          }
          if (n < nGates && !(v >= thr[n])) {
            n++;
            break;
          }
        }
        return finishSum(policy, sum, absAll, absPresent, nNull, n - nNull);
      },
    };
  },
});
