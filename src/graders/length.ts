import * as z from 'zod';
import { defineGrader, ParamError } from './types.js';
import { loadTokenizer, tokenLength, type TokenCounter } from '../tokenize/count.js';

/**
 * `length` — a reward or penalty from the completion's length L, in `unit`s: `chars` (Unicode code
 * points, so an emoji counts 1) or `tokens`, the policy's tokens, taken in this order from:
 * 1. the rollout's `completion_ids` (their count; TRL passes them) or `response_length` (verl's
 *    `valid_response_length`) — the trainer's own count, exact;
 * 2. `tokenizer:`, a local `tokenizer.json` (or a model folder holding one) encoded without special
 *    tokens — exact when it is the policy's tokenizer;
 * 3. else an estimate of BPE tokens (`estimateTokens`, src/tokenize/estimate.ts: about ±20% of
 *    GPT-2/cl100k on English, never below ⌈N/8⌉ for N non-whitespace characters, so removing spaces
 *    cannot hide length), with a one-time warning on stderr.
 *
 * `details.source` says which was used. With a tokenizer, a completion certainly past the length where
 * the score stops changing (`max_length` for dapo/generalized, `max + slack` or `min` for band) is not
 * encoded in full: `details.length` is then a count past that point, not the exact one (the score is
 * the same). `meta_key` reads L from the rollout's meta instead. One
 * `mode` at a time:
 *
 * - `raw` (default): L itself.
 * - `band`: 1 inside [min, max], falling linearly to 0 over `slack` units outside it (slack 0: a hard edge).
 * - `dapo`: DAPO's soft overlong punishment ("DAPO: An Open-Source LLM Reinforcement Learning System
 *   at Scale", Eq. 13), as verl's DAPO reward manager computes it: with L_max = `max_length` and
 *   L_cache = `cache`, 0 when L ≤ L_max − L_cache, (L_max − L_cache − L)/L_cache between, −1 beyond
 *   L_max; times `penalty_factor` (verl's `overlong_buffer.penalty_factor`, default 1). verl leaves
 *   the value unclamped because generation stops at L_max; here it is clamped at −penalty_factor.
 * - `generalized`: the generalised length penalty of "Beyond Monolithic Rewards" (HARMO, arXiv
 *   2510.05283). The paper's formula was not retrieved; this is the project's reading: 1 when
 *   L ≤ `target`, 1 − (L − target)/(max_length − target) between, `floor` (0 or −1) at and beyond
 *   `max_length`.
 *
 * @example
 * # spec
 * - {name: overlong, grader: length, unit: tokens, mode: dapo, max_length: 20, cache: 4, weight: 1}
 * # rollout {"completion": "…", "completion_ids": [18 token ids]} → (20 − 4 − 18)/4 = −0.5
 */
export const lengthGrader = defineGrader({
  kind: 'length',
  summary: 'Completion length, or a length band, DAPO overlong or generalised length penalty.',
  params: {
    unit: z
      .enum(['chars', 'tokens'])
      .default('chars')
      .describe('`chars` counts Unicode code points; `tokens` counts the policy\'s tokens: the rollout\'s `completion_ids`/`response_length`, else `tokenizer`, else an estimate (with a warning).'),
    tokenizer: z
      .string()
      .min(1)
      .optional()
      .describe('unit tokens: path of the policy\'s `tokenizer.json` (or of a model folder holding one), relative to the spec file; used for rollouts without `completion_ids`/`response_length`.'),
    meta_key: z
      .string()
      .min(1)
      .optional()
      .describe('Read the length from `meta[meta_key]` (a non-negative number, e.g. the true token count) instead of counting; a rollout without it is an error.'),
    mode: z
      .enum(['raw', 'band', 'dapo', 'generalized'])
      .default('raw')
      .describe('`raw` length (default), `band` (1 inside [min, max]), `dapo` (soft overlong penalty), `generalized` (linear decay from target to max_length).'),
    min: z.number().nonnegative().optional().describe('band: lower edge of the band (default 0).'),
    max: z.number().nonnegative().optional().describe('band: upper edge of the band (default: none).'),
    slack: z.number().nonnegative().optional().describe('band: units over which the score falls from 1 to 0 outside the band (default 0: a hard edge).'),
    max_length: z.number().positive().optional().describe('dapo, generalized: L_max, the length at which the penalty is complete.'),
    cache: z.number().positive().optional().describe('dapo: L_cache, the soft-penalty interval before max_length.'),
    penalty_factor: z.number().nonnegative().optional().describe('dapo: scale of the penalty, the value reached at max_length is −penalty_factor (default 1).'),
    target: z.number().nonnegative().optional().describe('generalized: L_target, the longest length that still scores 1.'),
    floor: z.number().min(-1).max(0).optional().describe('generalized: the score at and beyond max_length, 0 (default) or −1.'),
  },
  create(params, ctx) {
    const { unit, mode, meta_key: metaKey } = params;
    if (params.tokenizer !== undefined && unit !== 'tokens') throw new ParamError('tokenizer', '`tokenizer` applies to `unit: tokens` (set `unit`).');
    if (params.tokenizer !== undefined && metaKey !== undefined) throw new ParamError('tokenizer', '`tokenizer` and `meta_key` are two sources of the length: set one.');
    let tokenizer: TokenCounter | null = null;
    if (params.tokenizer !== undefined) {
      try {
        tokenizer = loadTokenizer(params.tokenizer, ctx.specDir);
      } catch (e) {
        throw new ParamError('tokenizer', (e as Error).message);
      }
    }
    const given = (Object.keys(MODE_PARAMS) as (keyof typeof MODE_PARAMS)[]).filter((k) => params[k] !== undefined);
    for (const k of given)
      if (!MODE_PARAMS[k].includes(mode))
        throw new ParamError(k, `\`${k}\` applies to mode ${MODE_PARAMS[k].map((m) => `\`${m}\``).join(' or ')}, not \`${mode}\` (set \`mode\`).`);

    const score = scorer(params);
    const enough = saturation(params);
    return {
      scope: 'rollout',
      grade(s) {
        let L: number;
        let source: string | undefined;
        if (metaKey !== undefined) {
          const v = s.meta[metaKey];
          if (typeof v !== 'number' || !(v >= 0)) throw new Error(`meta.${metaKey} must be a non-negative number (the length), got ${JSON.stringify(v) ?? 'nothing'}.`);
          L = v;
        } else if (unit === 'chars') {
          L = countCodePoints(s.completion);
        } else {
          const t = tokenLength(s.rollout, s.completion, tokenizer, enough, `component "${ctx.name}" (length)`);
          L = t.length;
          source = t.source;
        }
        if (mode === 'raw') return source === undefined ? L : { score: L, details: { length: L, unit, source } };
        return { score: score(L), details: source === undefined ? { length: L, unit } : { length: L, unit, source } };
      },
    };
  },
});

/** Which mode each mode-specific param belongs to. */
const MODE_PARAMS: Record<Exclude<keyof ModeParams, 'mode'>, readonly ModeParams['mode'][]> = {
  min: ['band'],
  max: ['band'],
  slack: ['band'],
  max_length: ['dapo', 'generalized'],
  cache: ['dapo'],
  penalty_factor: ['dapo'],
  target: ['generalized'],
  floor: ['generalized'],
};

interface ModeParams {
  mode: 'raw' | 'band' | 'dapo' | 'generalized';
  min?: number | undefined;
  max?: number | undefined;
  slack?: number | undefined;
  max_length?: number | undefined;
  cache?: number | undefined;
  penalty_factor?: number | undefined;
  target?: number | undefined;
  floor?: number | undefined;
}

function required(p: ModeParams, key: 'max_length' | 'cache' | 'target'): number {
  const v = p[key];
  if (v === undefined) throw new ParamError(key, `mode \`${p.mode}\` needs \`${key}\`.`);
  return v;
}

/** A length past which the score no longer changes (Infinity for `raw`): lets a tokenizer stop early. */
function saturation(p: ModeParams): number {
  switch (p.mode) {
    case 'raw':
      return Infinity;
    case 'band':
      return p.max === undefined ? Math.max(p.min ?? 0, 0) : p.max + (p.slack ?? 0);
    case 'dapo':
    case 'generalized':
      return p.max_length ?? Infinity;
  }
}

function scorer(p: ModeParams): (L: number) => number {
  switch (p.mode) {
    case 'raw':
      return (L) => L;
    case 'band': {
      const min = p.min ?? 0;
      const max = p.max ?? Infinity;
      const slack = p.slack ?? 0;
      if (p.min === undefined && p.max === undefined) throw new ParamError('max', 'mode `band` needs `min`, `max` or both.');
      if (min > max) throw new ParamError('min', `\`min\` (${min}) is above \`max\` (${max}).`);
      return (L) => {
        const off = L < min ? min - L : L > max ? L - max : 0;
        if (off === 0) return 1;
        return slack === 0 ? 0 : Math.max(0, 1 - off / slack);
      };
    }
    case 'dapo': {
      const lMax = required(p, 'max_length');
      const lCache = required(p, 'cache');
      const factor = p.penalty_factor ?? 1;
      if (lCache > lMax) throw new ParamError('cache', `\`cache\` (${lCache}) cannot exceed \`max_length\` (${lMax}).`);
      const expected = lMax - lCache;
      return (L) => {
        if (L <= expected) return 0;
        if (L > lMax) return -factor;
        return ((expected - L) / lCache) * factor;
      };
    }
    case 'generalized': {
      const target = required(p, 'target');
      const lMax = required(p, 'max_length');
      const floor = p.floor ?? 0;
      if (lMax <= target) throw new ParamError('max_length', `\`max_length\` (${lMax}) must be above \`target\` (${target}).`);
      return (L) => {
        if (L <= target) return 1;
        if (L >= lMax) return floor;
        return 1 - (L - target) / (lMax - target);
      };
    }
  }
}

const SURROGATE = /[\ud800-\udfff]/;

/** Length in Unicode code points: UTF-16 units minus the trailing halves of surrogate pairs. */
function countCodePoints(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = s.length;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) {
      const h = s.charCodeAt(i - 1);
      if (h >= 0xd800 && h <= 0xdbff) n--;
    }
  }
  return n;
}
