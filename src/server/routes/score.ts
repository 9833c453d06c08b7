import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { HttpError, kindOf } from '../errors.js';
import { validateRollouts } from '../service.js';
import { diagnosePart } from '../diagnostics.js';
import { textOf } from '../../rollout/sample.js';
import { nameRecord } from '../../spec/names.js';

const KEYS = new Set(['spec', 'rollouts', 'details', 'diagnostics']);

/** Request body of `POST /v1/score`, checked. */
export interface ScoreBody {
  spec: string | undefined;
  rollouts: unknown;
  details: boolean;
  diagnostics: boolean;
}

/** Checks the top level of a `/v1/score` body; throws 422 naming the key at fault. */
export function checkScoreBody(body: unknown): ScoreBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(422, `expected a JSON object {rollouts, spec?, details?, diagnostics?}, got ${kindOf(body)}`, '');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!KEYS.has(k)) throw new HttpError(422, 'unknown key (expected rollouts, spec, details, diagnostics)', k);
  if (b.spec !== undefined && (typeof b.spec !== 'string' || b.spec.length === 0)) throw new HttpError(422, `expected a spec name (non-empty string), got ${kindOf(b.spec)}`, 'spec');
  for (const k of ['details', 'diagnostics'] as const)
    if (b[k] !== undefined && typeof b[k] !== 'boolean') throw new HttpError(422, `expected true or false, got ${kindOf(b[k])}`, k);
  return { spec: b.spec as string | undefined, rollouts: b.rollouts, details: b.details === true, diagnostics: b.diagnostics === true };
}

/**
 * `POST /v1/score` — the native API: `{spec?, rollouts, details?, diagnostics?}` →
 * `{results: [{id, reward, components, advantage?, details?, errors?, steps?}], diagnostics?}`. Each spec's
 * rollouts are one batch: groups and advantages as `rewardkit score` computes them for one batch.
 * `diagnostics` is keyed by spec name. Waits its turn in the admission queue (limits.ts); any number
 * of rollouts up to the body's byte limit (larger than one scoring chunk: graded in chunks).
 */
export function registerScoreRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/score', { config: { auth: 'bearer', scoring: true } }, async (req) => {
    const body = checkScoreBody(req.body);
    const rollouts = validateRollouts(body.rollouts);
    req.rolloutCount = rollouts.length;
    if (ctx.options.logCompletions) req.log.info({ completions: rollouts.map((r) => textOf(r.completion, 'completion')) }, 'completions');
    const out = await ctx.service.score(rollouts, body.spec, { details: body.details, gone: req.gone });
    if (!body.diagnostics) return { results: out.results };
    // Keyed by spec name: a null-prototype record, so a spec named __proto__ is a plain key (spec/names.ts).
    const diagnostics = nameRecord<unknown>();
    for (const p of out.parts) {
      const backends = p.entry.compiled.backends?.stats();
      // Backend counters are the server's totals since start (main thread), not this request's.
      diagnostics[p.entry.name] = backends ? { ...diagnosePart(p), backends } : diagnosePart(p);
    }
    return { results: out.results, diagnostics };
  });
}
