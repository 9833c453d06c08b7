import { z } from 'zod';
import { defineGrader, ParamError } from './types.js';

/**
 * `length` — a reward or penalty from the completion's length L, in `unit`s: `chars` (Unicode code
 * points, so an emoji counts 1) or `tokens` (whitespace-separated words). `meta_key` reads L from the
 * rollout's meta instead (e.g. the trainer's true token count). One `mode` at a time:
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
 * # rollout whose completion has 18 words → (20 − 4 − 18)/4 = −0.5
 */
export const lengthGrader = defineGrader({
  kind: 'length',
  summary: 'Completion length, or a length band, DAPO overlong or generalised length penalty.',
  params: {
    unit: z
      .enum(['chars', 'tokens'])
      .default('chars')
      .describe('`chars` counts Unicode code points; `tokens` counts whitespace-separated words.'),
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
  create(params) {
    const { unit, mode, meta_key: metaKey } = params;
    const given = (Object.keys(MODE_PARAMS) as (keyof typeof MODE_PARAMS)[]).filter((k) => params[k] !== undefined);
    for (const k of given)
      if (!MODE_PARAMS[k].includes(mode))
        throw new ParamError(k, `\`${k}\` applies to mode ${MODE_PARAMS[k].map((m) => `\`${m}\``).join(' or ')}, not \`${mode}\` (set \`mode\`).`);

    const score = scorer(params);
    const measure = unit === 'chars' ? countCodePoints : countWords;
    return {
      scope: 'rollout',
      grade(s) {
        let L: number;
        if (metaKey !== undefined) {
          const v = s.meta[metaKey];
          if (typeof v !== 'number' || !(v >= 0)) throw new Error(`meta.${metaKey} must be a non-negative number (the length), got ${JSON.stringify(v) ?? 'nothing'}.`);
          L = v;
        } else {
          L = measure(s.completion);
        }
        if (mode === 'raw') return L;
        return { score: score(L), details: { length: L, unit } };
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

/** Same set as JavaScript's `\s`. */
function isWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Number of maximal runs of non-whitespace characters. */
function countWords(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ws = c <= 32 ? c === 32 || (c >= 9 && c <= 13) : c >= 0xa0 && isWhitespace(c);
    if (ws) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}
