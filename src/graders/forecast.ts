import * as z from 'zod';
import { defineGrader, type Graded } from './types.js';

/**
 * CastFlow's per-dataset MSE upper bounds U (Forever-Pan/CastFlow, `training/rewards.py`); other
 * datasets use 10.
 */
export const CASTFLOW_MSE_BOUNDS: Readonly<Record<string, number>> = Object.freeze({
  NP: 40, BE: 800, DE: 350, FR: 1000, PJM: 45, MOPEX: 7, sunny: 50, SP: 50, windy: 3000, WP: 3000, ETTh1: 12, ETTm1: 3.5,
});

/** CastFlow's per-dataset relative bounds B of the contrastive term; other datasets use 10. */
export const CASTFLOW_RELATIVE_BOUNDS: Readonly<Record<string, number>> = Object.freeze({
  NP: 3, BE: 10, DE: 10, FR: 10, PJM: 4, MOPEX: 1.5, sunny: 3, SP: 3, windy: 30, WP: 30, ETTh1: 2, ETTm1: 1,
});

/** A forecast: series key (timestamp or index) → value, in the order the keys were given. */
export type Forecast = Map<string, number>;

/** Python's `float(x)` on a JSON value: numbers, booleans and numeric strings (`" 1.5 "`, `"1e3"`, `"inf"`, `"nan"`, `"1_000"`). */
export function pyFloat(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  const D = String.raw`\d(?:_?\d)*`;
  if (!new RegExp(`^[+-]?(?:${D}(?:\\.(?:${D})?)?|\\.${D})(?:[eE][+-]?${D})?$`).test(s)) return null;
  return Number(s.replace(/_/g, ''));
}

function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Python truthiness of a JSON value (for CastFlow's `a or b or c` key fallbacks). */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function listToForecast(items: unknown[]): Forecast {
  const out: Forecast = new Map();
  if (items.length === 0) return out;
  if (items.every((x) => typeof x === 'number' || typeof x === 'boolean')) {
    items.forEach((x, i) => out.set(String(i), pyFloat(x)!));
    return out;
  }
  items.forEach((item, idx) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return;
    const o = item as Record<string, unknown>;
    const keys = Object.keys(o);
    let key: unknown;
    let value: unknown;
    if (keys.length === 1) {
      key = keys[0];
      value = o[keys[0]!];
    } else {
      key = [o.timestamp, o.time, o.t, o.date].find(truthy) ?? String(idx);
      value = 'value' in o ? o.value : 'val' in o ? o.val : o.v;
    }
    const f = pyFloat(value);
    if (f !== null) out.set(pyStr(key), f);
  });
  return out;
}

function mappingToForecast(o: Record<string, unknown>): Forecast {
  const out: Forecast = new Map();
  for (const [k, v] of Object.entries(o)) {
    const f = pyFloat(v);
    if (f !== null) out.set(k, f);
  }
  return out;
}

const TS_QUOTED = /"(\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2})"\s*:\s*([+-]?\d+\.?\d*)/g;
const TS_BARE = /(\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}):\s*([+-]?\d+\.?\d*)/g;

/**
 * Reads a forecast as CastFlow's `parse_json_column` does: `...` placeholders inside lists are
 * dropped; JSON lists of numbers are keyed by index, lists of objects by their single key or by
 * `timestamp`/`time`/`t`/`date` with `value`/`val`/`v`; JSON objects map keys to values (entries that
 * are not numbers are skipped); text that is not JSON falls back to `"YYYY-MM-DD hh:mm:ss": value`
 * pairs. Anything else is an empty forecast.
 */
export function parseForecast(value: unknown): Forecast {
  if (Array.isArray(value)) return listToForecast(value);
  if (value !== null && typeof value === 'object') return mappingToForecast(value as Record<string, unknown>);
  if (typeof value === 'number') return new Map();
  if (typeof value !== 'string' || value.trim() === '') return new Map();
  const cleaned = value
    .trim()
    .replace(/,\s*\.\.\.\s*,/g, ',')
    .replace(/,\s*\.\.\.\s*\]/g, ']')
    .replace(/\[\s*\.\.\.\s*,/g, '[');
  let parsed: unknown;
  try {
    parsed = JSON.parse(cleaned);
  } catch {
    for (const re of [TS_QUOTED, TS_BARE]) {
      const out: Forecast = new Map();
      for (const m of value.matchAll(re)) out.set(m[1]!, Number(m[2]));
      if (out.size > 0) return out;
    }
    return new Map();
  }
  if (Array.isArray(parsed)) return listToForecast(parsed);
  if (parsed !== null && typeof parsed === 'object') return mappingToForecast(parsed as Record<string, unknown>);
  return new Map();
}

/** The last `<answer>…</answer>` of a completion (case-insensitive), else the whole completion; trimmed. */
export function extractForecastAnswer(completion: string): string {
  // The last match of /<answer>([\s\S]*?)<\/answer>/gi, found in linear time: that regex rescans to the
  // end from every unclosed `<answer>`; an opening tag with no closing tag after it ends the search.
  let last: string | null = null;
  for (let p = 0; ; ) {
    OPEN_TAG.lastIndex = p;
    const open = OPEN_TAG.exec(completion);
    if (open === null) break;
    CLOSE_TAG.lastIndex = open.index + open[0].length;
    const close = CLOSE_TAG.exec(completion);
    if (close === null) break;
    last = completion.slice(open.index + open[0].length, close.index);
    p = close.index + close[0].length;
  }
  return (last ?? completion).trim();
}
const OPEN_TAG = /<answer>/gi;
const CLOSE_TAG = /<\/answer>/gi;

/** CastFlow's bounded curve: 1 − 0.9·sin(π·e/(2U)) for e ≤ U, else 0.3·exp(−ln3·e/U); continuous at U (0.1). */
export function boundedErrorReward(error: number, upperBound: number): number {
  if (error <= upperBound) return 1 - 0.9 * Math.sin((Math.PI * error) / (2 * upperBound));
  return 0.3 * Math.exp((-Math.log(3) * error) / upperBound);
}

/** Keys in series order: numeric keys by value, others (timestamps) as strings — see the note on baselines. */
function seriesOrder(keys: string[]): string[] {
  const numeric = keys.every((k) => /^-?\d+$/.test(k));
  return [...keys].sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type Metric = 'mse' | 'mae' | 'mase';

/** Error of `pred` against `truth` over their common keys (NaN when there are none). */
function seriesError(pred: Forecast, truth: Forecast, metric: Metric, scale: number): number {
  let sum = 0;
  let n = 0;
  for (const [k, t] of truth) {
    const p = pred.get(k);
    if (p === undefined) continue;
    const d = p - t;
    sum += metric === 'mse' ? d * d : Math.abs(d);
    n++;
  }
  if (n === 0) return NaN;
  const mean = sum / n;
  return metric === 'mase' ? mean / scale : mean;
}

function toNumbers(v: unknown): number[] | null {
  let x = v;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x);
    } catch {
      return null;
    }
  }
  if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
    const f = parseForecast(x);
    return [...f.values()];
  }
  if (!Array.isArray(x)) return null;
  const out: number[] = [];
  for (const e of x) {
    const f = pyFloat(e);
    if (f === null) return null;
    out.push(f);
  }
  return out;
}

/** The baseline forecast aligned to the ground truth's keys, or null when absent or unusable. */
function baselineForecast(raw: unknown, truth: Forecast): Forecast | null {
  if (raw === undefined || raw === null) return null;
  let b = raw;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return null;
    }
  }
  if (b !== null && typeof b === 'object' && !Array.isArray(b)) {
    const o = b as Record<string, unknown>;
    const inner = o.reference_prediction ?? o.ensemble_forecast_baseline;
    if (Array.isArray(inner)) b = inner;
    else {
      const f = parseForecast(o);
      return f.size > 0 ? f : null;
    }
  }
  if (!Array.isArray(b)) return null;
  const keys = seriesOrder([...truth.keys()]);
  if (keys.length !== b.length) return null;
  const out: Forecast = new Map();
  for (let i = 0; i < keys.length; i++) {
    const f = pyFloat(b[i]);
    if (f === null) return null;
    out.set(keys[i]!, f);
  }
  return out;
}

/**
 * `forecast` — CastFlow's reward for numerical forecasts (Forever-Pan/CastFlow, `training/rewards.py`;
 * mechanics-A §21), with MAE and MASE as alternatives to its MSE.
 *
 * **Parsing.** The answer is the last `<answer>…</answer>` of the completion (else the whole text);
 * the ground truth is the rollout's `reference` — a list of numbers (keyed by index), an object
 * `{timestamp: value}`, or a JSON string of either (CastFlow's parser: see {@link parseForecast}).
 * Null rule: no reference, or a ground truth that is empty or unreadable → `null` (cannot judge;
 * CastFlow scores the latter −1, which would punish the policy for the data). Answer failures score
 * CastFlow's penalties, all below any readable forecast (≥ −0.5):
 * - the answer has content but no forecast can be read from it: −1;
 * - more points than the truth: max(−0.5 − 0.3·extra/(0.5·n), −0.8); fewer (or none): −0.8;
 * - no key in common with the truth, or a NaN error: −1.
 *
 * **Reward.** The error e (over the keys both share) goes through CastFlow's bounded curve
 * `1 − 0.9·sin(π·e/(2U))` for e ≤ U, else `0.3·exp(−ln3·e/U)` — 1 at e = 0, 0.1 at e = U, continuous,
 * strictly decreasing, in (0, 1]. With a baseline forecast in `meta.baseline` (the ensemble/small-model
 * forecast) and `contrastive` on (default), the reward adds `clip((e_baseline − e)/B · 5, −0.5, 0.5)`.
 * No baseline, or one of the wrong length → the absolute reward alone.
 *
 * **Bounds.** U and B come from `upper_bound`/`relative_bound` when given, else from CastFlow's tables
 * by dataset name (`meta.dataset`, else the `dataset` param: ETTh1 U = 12, B = 2; ETTm1 3.5, 1; NP 40,
 * 3 …), else 10 and 10 — these are MSE-scale. rewardkit's own defaults for the variants (not
 * CastFlow's): `mae` uses the square roots of the MSE bounds (the RMSE scale); `mase` uses U = 2 and
 * B = 0.5 (MASE is scale-free: a forecast as good as the in-sample naive one, MASE 1, earns 0.36).
 *
 * **MASE** divides the MAE by the in-sample MAE of the seasonal naive forecast on the history in
 * `meta.history` (a list of numbers, lag `seasonality`); a missing, too short or constant history is an
 * error. **Baselines** given as a list are aligned with the ground truth's keys in series order
 * (numeric keys by value, timestamps as text); CastFlow sorts keys as text, which misaligns index-keyed
 * series longer than 10 — rewardkit does not reproduce that. An object baseline is matched by key; an
 * object `{reference_prediction: [...]}` or `{ensemble_forecast_baseline: [...]}` (CastFlow's
 * auxiliary-tool output) is read as its list. `contrastive: false` ignores the baseline (in CastFlow a
 * baseline switches the bonus on even then).
 *
 * @example
 * # spec
 * - {name: forecast, grader: forecast, dataset: ETTh1}
 * # rollout {"completion": "<answer>[3, 3, 0]</answer>", "reference": [0, 0, 0], "meta": {"baseline": [4, 2, 2]}}
 * # → mse 6 → 0.3636 + clip((8 − 6)/2·5, ±0.5) = 0.8636
 */
export const forecastGrader = defineGrader({
  kind: 'forecast',
  summary: 'CastFlow’s bounded forecast-error reward (MSE/MAE/MASE) with a bonus for beating a baseline forecast.',
  params: {
    metric: z.enum(['mse', 'mae', 'mase']).default('mse').describe('Error measure: `mse` (CastFlow, default), `mae`, or `mase` (MAE scaled by the naive forecast’s in-sample MAE on `meta.history`).'),
    dataset: z
      .string()
      .optional()
      .describe('Dataset name for CastFlow’s bound tables (ETTh1, ETTm1, NP, BE, DE, FR, PJM, MOPEX, sunny/SP, windy/WP); `meta.dataset` of a rollout takes precedence.'),
    upper_bound: z.number().positive().optional().describe('U: the error at which the reward falls to 0.1 (overrides the dataset table).'),
    relative_bound: z.number().positive().optional().describe('B: the error difference scale of the contrastive bonus (overrides the dataset table).'),
    contrastive: z.boolean().default(true).describe('Add the bonus for beating the baseline forecast in `meta.baseline` (default true).'),
    relative_scale: z.number().positive().default(5).describe('Multiplier of (e_baseline − e)/B in the bonus (CastFlow: 5).'),
    relative_clip: z.number().nonnegative().default(0.5).describe('The bonus is clipped to ±this (CastFlow: 0.5).'),
    seasonality: z.number().int().positive().default(1).describe('MASE: lag of the naive forecast on the history (1 = previous value).'),
  },
  create(params) {
    const { metric, contrastive, relative_scale: scaleFactor, relative_clip: clipAt, seasonality } = params;

    const bounds = (dataset: string | undefined): { U: number; B: number } => {
      if (metric === 'mase') return { U: params.upper_bound ?? 2, B: params.relative_bound ?? 0.5 };
      const Umse = (dataset !== undefined ? CASTFLOW_MSE_BOUNDS[dataset] : undefined) ?? 10;
      const Bmse = (dataset !== undefined ? CASTFLOW_RELATIVE_BOUNDS[dataset] : undefined) ?? 10;
      return {
        U: params.upper_bound ?? (metric === 'mae' ? Math.sqrt(Umse) : Umse),
        B: params.relative_bound ?? (metric === 'mae' ? Math.sqrt(Bmse) : Bmse),
      };
    };

    const maseScale = (history: unknown): number => {
      const h = toNumbers(history);
      if (h === null || h.length <= seasonality) throw new Error(`metric mase needs meta.history: a list of more than ${seasonality} numbers`);
      let sum = 0;
      for (let i = seasonality; i < h.length; i++) sum += Math.abs(h[i]! - h[i - seasonality]!);
      const scale = sum / (h.length - seasonality);
      if (!(scale > 0) || !Number.isFinite(scale)) throw new Error('metric mase: the naive forecast is exact on meta.history (constant series), MASE is undefined');
      return scale;
    };

    return {
      scope: 'rollout',
      grade(s): Graded | null {
        if (s.reference === undefined || s.reference === null) return null;
        const truth = parseForecast(s.reference);
        if (truth.size === 0) return { score: null, details: { reason: 'empty or unreadable ground truth' } };
        const answerText = extractForecastAnswer(s.completion);
        const pred = parseForecast(answerText);
        const fail = (score: number, reason: string): Graded => ({ score, details: { reason, points: pred.size, expected_points: truth.size } });
        if (answerText !== '' && pred.size === 0) return fail(-1, 'unparsable forecast');
        if (pred.size > truth.size) {
          const extra = pred.size - truth.size;
          return fail(Math.max(-0.5 - (0.3 * extra) / (0.5 * truth.size), -0.8), 'more points than the ground truth');
        }
        if (pred.size < truth.size) return fail(-0.8, 'fewer points than the ground truth');

        const datasetMeta = s.meta.dataset;
        const dataset = typeof datasetMeta === 'string' ? datasetMeta : params.dataset;
        const { U, B } = bounds(dataset);
        const scale = metric === 'mase' ? maseScale(s.meta.history) : 1;
        const error = seriesError(pred, truth, metric, scale);
        if (Number.isNaN(error)) return fail(-1, 'no common keys with the ground truth, or a NaN error');
        const absolute = boundedErrorReward(error, U);
        const details: Record<string, unknown> = { metric, error, absolute, upper_bound: U, points: pred.size };
        if (dataset !== undefined) details.dataset = dataset;
        if (!contrastive) return { score: absolute, details };
        const base = baselineForecast(s.meta.baseline, truth);
        if (base === null) return { score: absolute, details };
        const baseError = seriesError(base, truth, metric, scale);
        if (Number.isNaN(baseError)) return { score: absolute, details };
        const raw = ((baseError - error) / Math.max(B, 1e-8)) * scaleFactor;
        if (Number.isNaN(raw)) return { score: absolute, details }; // both errors infinite
        const relative = Math.min(clipAt, Math.max(-clipAt, raw));
        return { score: absolute + relative, details: { ...details, baseline_error: baseError, relative, relative_bound: B } };
      },
    };
  },
});
