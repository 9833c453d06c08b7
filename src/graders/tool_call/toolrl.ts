/**
 * ToolRL's reward ("ToolRL: Reward is All Tool Learning Needs", Qian et al. 2025; qiancheng0/ToolRL,
 * `verl/utils/reward_score/rlla.py`), re-implemented for one response: by default the defaults of
 * that file (correctness in [−3, 3], format in {0, 1}, length off); the paper's reward-design
 * variants are options — granularity (`COARSEREWARD`, `INTERMEDIATEREWARD`) and the dynamic reward
 * scale (`SCHEDULEREWARD`), see {@link toolrlGranularity} and {@link toolrlSchedule}.
 */
import { parsePyJson, PyFloat, pyEqual, type PyValue } from './json.js';
import type { RefCall } from './parse.js';

/** Which blocks the gold output has: decides the format pattern. */
export interface GoldShape {
  toolCall: boolean;
  response: boolean;
}

/** The gold shape of a ToolRL gold output string: which tags it contains. */
export function goldShape(gold: string): GoldShape {
  return { toolCall: gold.includes('<tool_call>'), response: gold.includes('<response>') };
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

const PATTERNS = {
  response: /^<think>.*?<\/think>\n<response>.*?<\/response>$/s,
  toolCall: /^<think>.*?<\/think>\n<tool_call>\n.*?\n<\/tool_call>$/s,
  both: /^<think>.*?<\/think>\n<tool_call>\n.*?\n<\/tool_call>\n<response>.*?<\/response>$/s,
  think: /^<think>.*?<\/think>$/s,
};

/**
 * ToolRL's format reward: 1 when the (trimmed) response has exactly the blocks the gold has, in order
 * `<think>`, `<tool_call>` (its JSON lines between newlines), `<response>`, each tag pair once; else 0.
 */
export function toolrlFormat(response: string, gold: GoldShape): number {
  // The tag counts are checked before the patterns: with each tag pair present once, every lazy `.*?`
  // has one place to stop and the pattern runs in linear time; with a tag repeated (`</think>\n<response>`
  // × 10,000) it would retry from every repetition (quadratic).
  const r = response.trim();
  if (gold.response && !gold.toolCall)
    return count(r, '<response>') === 1 && count(r, '</response>') === 1 && PATTERNS.response.test(r) ? 1 : 0;
  if (gold.toolCall && !gold.response)
    return count(r, '<tool_call>') === 1 && count(r, '</tool_call>') === 1 && PATTERNS.toolCall.test(r) ? 1 : 0;
  if (gold.toolCall && gold.response)
    return count(r, '<tool_call>') === 1 &&
      count(r, '</tool_call>') === 1 &&
      count(r, '<response>') === 1 &&
      count(r, '</response>') === 1 &&
      PATTERNS.both.test(r)
      ? 1
      : 0;
  return PATTERNS.think.test(r) ? 1 : 0;
}

/** A call as ToolRL reads it from one JSON line: `parameters` (or `arguments`) may be missing or not a dict. */
interface LineCall {
  name: string;
  params: Record<string, PyValue> | 'missing' | 'not a dict';
}

/**
 * ToolRL's reading of a `<tool_call>` section: the text between the first `<tool_call>` and the next
 * `</tool_call>`, trimmed, one JSON object per line. Returns a message when it is unreadable (ToolRL's
 * −3 case): a tag missing, a line that is not JSON, an entry without a string `name`.
 */
export function toolrlLines(text: string): LineCall[] | string {
  if (!text.includes('<tool_call>') || !text.includes('</tool_call>')) return 'missing <tool_call> or </tool_call>';
  const body = text.split('<tool_call>')[1]!.split('</tool_call>')[0]!.trim();
  const out: LineCall[] = [];
  for (const line of body.split('\n')) {
    let v: PyValue;
    try {
      v = parsePyJson(line);
    } catch (e) {
      return `tool call line is not JSON: ${(e as Error).message}`;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof PyFloat || typeof v.name !== 'string')
      return 'tool call line is not an object with a string "name"';
    const o = v as Record<string, PyValue>;
    const p = o.parameters !== undefined ? o.parameters : o.arguments;
    const isDict = p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof PyFloat);
    const params = p === undefined ? 'missing' : isDict ? (p as Record<string, PyValue>) : 'not a dict';
    out.push({ name: o.name as string, params });
  }
  return out;
}

/** ToolRL's gold calls from its gold output; throws when the gold's `<tool_call>` section is unreadable. */
export function toolrlGoldCalls(gold: string): RefCall[] {
  const lines = toolrlLines(gold);
  if (typeof lines === 'string') throw new Error(`reference: ToolRL cannot read the gold <tool_call> section (${lines})`);
  return lines.map((l, i) => {
    if (typeof l.params === 'string') throw new Error(`reference: gold call ${i} has ${l.params} parameters`);
    const params = new Map(Object.entries(l.params).map(([k, v]) => [k, { values: [v] as unknown[], optional: false }]));
    return { name: l.name, params };
  });
}

/** ToolRL's `match_score`: 1 for equal lists, 0 when either is empty, else multiset Jaccard. */
export function matchScore(a: readonly string[], b: readonly string[]): number {
  if (a.length === b.length && a.every((x, i) => x === b[i])) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const ca = new Map<string, number>();
  for (const x of a) ca.set(x, (ca.get(x) ?? 0) + 1);
  const cb = new Map<string, number>();
  for (const x of b) cb.set(x, (cb.get(x) ?? 0) + 1);
  let inter = 0;
  for (const [k, n] of ca) inter += Math.min(n, cb.get(k) ?? 0);
  return inter / (a.length + b.length - inter);
}

/**
 * ToolRL's reward granularity (paper §"reward granularity"; rlla.py env flags), for the correctness term:
 * - `fine` (default): the partial credit below (names, parameter names, parameter values);
 * - `intermediate` (`INTERMEDIATEREWARD`): each gold call earns 1 only when an unused predicted call
 *   equals it exactly (name and every parameter value), else 0; S_max = 1 + #gold calls (the
 *   name-match term stays);
 * - `coarse` (`COARSEREWARD`): max when the predicted call list equals the gold list exactly (same
 *   order), else min.
 *
 * @example
 * // gold search(q="x",k=5), predicted search(q="x",k=3): fine 1.5; intermediate S = 1, S_max = 2 → 0; coarse −3
 */
export type ToolRLGranularity = 'fine' | 'intermediate' | 'coarse';
export const toolrlGranularity: readonly ToolRLGranularity[] = ['fine', 'intermediate', 'coarse'];

/** Correctness and format ranges at a training step. */
export interface ToolRLRanges {
  correctMin: number;
  correctMax: number;
  formatMin: number;
  formatMax: number;
}

/**
 * ToolRL's dynamic reward scale (`SCHEDULEREWARD`, rlla.py) at training step t, from the static
 * ranges correctness [−M, M] and format [0, 1]: correctness `max_t = min(3, (M − 2)·t/150 + 2)`,
 * `min_t = max(−3, (−M + 2)·t/150 − 2)` (±2 → ±3 over 150 steps for M = 3); format
 * `max_t = max(1, 2 − (2 − 1)·t/150)` (2 → 1) and `min_t = min(−1, −2 + (2 + 0)·t/150)` (−2 → −1 by
 * step 75, then −1: a wrong format costs at least 1 throughout, as in the code).
 *
 * @example
 * toolrlSchedule(3, 75) // → { correctMin: -2.5, correctMax: 2.5, formatMin: -1, formatMax: 1.5 }
 */
export function toolrlSchedule(correctMax: number, step: number): ToolRLRanges {
  return {
    correctMax: Math.min(3, ((correctMax - 2) * step) / 150 + 2),
    correctMin: Math.max(-3, ((-correctMax + 2) * step) / 150 - 2),
    formatMax: Math.max(1, 2 - ((2 - 1) * step) / 150),
    formatMin: Math.min(-1, -2 + ((2 + 0) * step) / 150),
  };
}

/** One gold call equals one predicted call (ToolRL's `gt_tool == pd_tool`): same name and parameters. */
function callEquals(g: RefCall, p: LineCall): boolean {
  if (p.name !== g.name || typeof p.params === 'string') return false;
  const pp = p.params;
  for (const k of Object.keys(pp)) if (!g.params.has(k)) return false;
  for (const [k, gp] of g.params) {
    if (!Object.hasOwn(pp, k)) {
      if (gp.optional) continue;
      return false;
    }
    if (!gp.values.some((v) => !(gp.optional && v === '') && pyEqual(pp[k], v))) return false;
  }
  return true;
}

/** Details of a correctness score. */
export interface ToolRLCorrectness {
  score: number;
  /** Raw similarity S and its maximum (absent on the −max and no-call cases). */
  s?: number;
  sMax?: number;
  reason?: string;
}

/**
 * ToolRL's tool-call correctness, in [−max, max]: 0 when the gold has no tool call; −max when the
 * response's calls are unreadable (or a same-named call lacks a parameters dict); otherwise
 * `(2·max)·S/S_max − max` with S = match_score(names) + Σ over gold calls, in order, of the best unused
 * same-named predicted call's match_score(keys) + number of exactly equal values, and
 * S_max = 1 + Σ (1 + #params). Gold parameters that may be omitted (BFCL-form references) count only
 * when the predicted call has them.
 *
 * @example
 * // gold search(q="x", k=5), predicted search(q="x", k=3): S = 1 + (1 + 1) = 3, S_max = 4 → 1.5
 */
export function toolrlCorrectness(
  response: string,
  gold: readonly RefCall[] | null,
  max = 3,
  opts: { granularity?: ToolRLGranularity; min?: number } = {},
): ToolRLCorrectness {
  if (gold === null) return { score: 0, reason: 'the gold has no tool call' };
  const min = opts.min ?? -max;
  const granularity = opts.granularity ?? 'fine';
  const pred = toolrlLines(response.trim());
  if (typeof pred === 'string') return { score: min, reason: pred };
  if (granularity === 'coarse') {
    // ToolRL's `gt_tools == pd_tools`: the same calls in the same order.
    const exact = pred.length === gold.length && gold.every((g, i) => callEquals(g, pred[i]!));
    return exact ? { score: max, s: 1, sMax: 1 } : { score: min, s: 0, sMax: 1, reason: 'coarse: not an exact match' };
  }
  if (granularity === 'intermediate') {
    let si = matchScore(
      gold.map((g) => g.name),
      pred.map((p) => p.name),
    );
    const usedI = new Set<number>();
    for (const g of gold) {
      const i = pred.findIndex((p, k) => !usedI.has(k) && callEquals(g, p));
      if (i >= 0) {
        usedI.add(i);
        si += 1;
      }
    }
    const sMaxI = 1 + gold.length;
    return { score: ((max - min) * si) / sMaxI + min, s: si, sMax: sMaxI };
  }
  let s = matchScore(
    gold.map((g) => g.name),
    pred.map((p) => p.name),
  );
  let sMax = 1;
  const used = new Set<number>();
  for (const g of gold) {
    const required = [...g.params].filter(([, p]) => !p.optional).length;
    let best = -1;
    let bestScore = 0;
    let bestKeys = required;
    for (let i = 0; i < pred.length; i++) {
      const p = pred[i]!;
      if (used.has(i) || p.name !== g.name) continue;
      if (typeof p.params === 'string') return { score: min, reason: `predicted call ${p.name} has ${p.params} parameters` };
      const pp = p.params;
      const keys = [...g.params].filter(([k, gp]) => !gp.optional || Object.hasOwn(pp, k));
      const keyScore = matchScore(
        keys.map(([k]) => k),
        Object.keys(pp),
      );
      const exact = keys.filter(([k, gp]) => Object.hasOwn(pp, k) && gp.values.some((v) => !(gp.optional && v === '') && pyEqual(pp[k], v))).length;
      const total = keyScore + exact;
      if (total > bestScore) {
        bestScore = total;
        best = i;
        bestKeys = keys.length;
      }
    }
    sMax += 1 + bestKeys;
    if (best >= 0) {
      used.add(best);
      s += bestScore;
    }
  }
  return { score: ((max - min) * s) / sMax + min, s, sMax };
}

function roundHalfEven2(x: number): number {
  const y = x * 100;
  const f = Math.floor(y);
  const d = y - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r / 100;
}

/** ToolRL's optional length reward: min(1, round(#words in the last `<think>` block / 512, 2)); 0 without think tags. */
export function toolrlLength(response: string): number {
  if (!response.includes('<think>') || !response.includes('</think>')) return 0;
  const think = response.split('<think>').at(-1)!.split('</think>')[0]!.trim();
  const words = think === '' ? 0 : think.split(/\s+/).length;
  return Math.min(1, roundHalfEven2(words / 512));
}
