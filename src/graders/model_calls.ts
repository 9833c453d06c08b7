import * as z from 'zod';
import type { Backend, BackendOp, RewardInput } from '../backends/types.js';
import { ParamError, type GraderContext } from './types.js';

/**
 * How the model graders (`reward_model`, `embedding_similarity`, `vendi`, `frechet`, `likelihood`,
 * `dpo_implicit`) reach their backends: resolving `backend: <name>` when the spec loads, batching
 * the per-rollout embedding and reward-model calls, and checking what comes back.
 */

/** The `batch_size` param shared by the graders whose backend op takes a list. */
export const batchSizeSchema = z
  .number()
  .int()
  .min(1)
  .max(4096)
  .default(64)
  .describe('Most inputs sent in one backend call; inputs requested in the same tick are grouped up to this size (default 64).');

/**
 * The backend named `name` from the spec's `backends`, checked to offer `needs`. A spec without
 * backends, an unknown name or a missing operation is a {@link ParamError} on `param`.
 *
 * @example
 * const rm = resolveBackend(ctx, params.backend, ['reward']);
 */
export function resolveBackend(ctx: GraderContext, name: string, needs: readonly BackendOp[], param = 'backend'): Backend {
  if (!ctx.backends) throw new ParamError(param, `backend "${name}" is not declared: the spec has no \`backends\` section.`);
  try {
    return ctx.backends.get(name, needs);
  } catch (e) {
    throw new ParamError(param, e instanceof Error ? e.message : String(e));
  }
}

interface Pending<I, O> {
  item: I;
  waiters: { resolve: (o: O) => void; reject: (e: unknown) => void }[];
}

/**
 * Groups single requests into batch calls: requests submitted in the same tick (before the event
 * loop turns) go out together, at most `maxBatch` distinct inputs per call; identical inputs (same
 * `key`) within a call are sent once. A failed call rejects only the requests it carried, with the
 * call's own error; a call that answers with the wrong number of results rejects them all.
 *
 * @example
 * const scores = new MicroBatcher((inputs: RewardInput[]) => backend.reward(inputs), { maxBatch: 32, key: JSON.stringify, what: 'reward' });
 * await Promise.all(rollouts.map((r) => scores.submit({ prompt: r.prompt, completion: r.completion })));
 */
export class MicroBatcher<I, O> {
  private pending = new Map<string, Pending<I, O>>();
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: { maxBatch: number; key: (item: I) => string; what: string },
  ) {}

  /** Queues one input; resolves with its result once its batch has been answered. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const k = this.opts.key(item);
      const entry = this.pending.get(k);
      if (entry) entry.waiters.push({ resolve, reject });
      else this.pending.set(k, { item, waiters: [{ resolve, reject }] });
      if (this.pending.size >= this.opts.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const fail = (e: unknown) => {
      for (const p of batch) for (const w of p.waiters) w.reject(e);
    };
    let call: Promise<O[]>;
    try {
      call = this.run(batch.map((p) => p.item));
    } catch (e) {
      fail(e);
      return;
    }
    call.then((outs) => {
      if (!Array.isArray(outs) || outs.length !== batch.length) {
        fail(new Error(`${this.opts.what} call returned ${Array.isArray(outs) ? outs.length : typeof outs} results for ${batch.length} inputs`));
        return;
      }
      batch.forEach((p, i) => {
        for (const w of p.waiters) w.resolve(outs[i]!);
      });
    }, fail);
  }
}

/**
 * The natural-log probabilities of `continuation`'s tokens given `prompt`, checked: one finite number
 * per token, and at least one token for a non-empty continuation (a malformed answer is an error,
 * never a silently wrong reward).
 *
 * @example
 * await continuationLogprobs(backend, 'Q: 2+2? A:', ' 4') // → e.g. [-0.105]
 */
export async function continuationLogprobs(backend: Backend, prompt: string, continuation: string): Promise<number[]> {
  const res = await backend.logprobs({ prompt, continuation });
  const lps: unknown = res?.logprobs;
  if (!Array.isArray(lps) || !Array.isArray(res.tokens) || lps.length !== res.tokens.length)
    throw new Error(`backend "${backend.name}" returned malformed log-probs (tokens and logprobs must be arrays of equal length)`);
  for (const x of lps) if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`backend "${backend.name}" returned a non-finite log-prob (${String(x)})`);
  if (lps.length === 0 && continuation.length > 0) throw new Error(`backend "${backend.name}" returned no tokens for a non-empty continuation`);
  return lps as number[];
}

/** Throws unless `v` is a non-empty array of finite numbers. */
function checkVector(v: unknown, backend: string): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`backend "${backend}" returned an empty or non-array embedding`);
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`backend "${backend}" returned an embedding with a non-finite entry (${String(x)})`);
  return v as number[];
}

/**
 * A function embedding one text at a time through a {@link MicroBatcher} over `backend.embed`: texts
 * asked for in the same tick go out in one call. Every vector is checked (non-empty, finite numbers).
 *
 * @example
 * const embed = batchedEmbedder(backend, 64);
 * const [a, b] = await Promise.all([embed('the cat'), embed('a dog')]);
 */
export function batchedEmbedder(backend: Backend, maxBatch: number): (text: string) => Promise<number[]> {
  const batcher = new MicroBatcher<string, number[]>(
    async (texts) => (await backend.embed(texts)).map((v) => checkVector(v, backend.name)),
    { maxBatch, key: (t) => t, what: `embedding (backend "${backend.name}")` },
  );
  return (text) => batcher.submit(text);
}

/**
 * A function scoring one reward-model input at a time through a {@link MicroBatcher} over
 * `backend.reward`. A score that is not a finite number rejects its input.
 *
 * @example
 * const score = batchedRewarder(backend, 32);
 * await score({ prompt: 'Q', completion: 'A' }) // → e.g. 1.25
 */
export function batchedRewarder(backend: Backend, maxBatch: number): (input: RewardInput) => Promise<number> {
  const batcher = new MicroBatcher<RewardInput, number>((inputs) => backend.reward(inputs), {
    maxBatch,
    key: (i) => JSON.stringify([i.prompt, i.completion, i.reference ?? null]),
    what: `reward (backend "${backend.name}")`,
  });
  return async (input) => {
    const s = await batcher.submit(input);
    if (typeof s !== 'number' || !Number.isFinite(s)) throw new Error(`backend "${backend.name}" returned a non-finite reward (${String(s)})`);
    return s;
  };
}
