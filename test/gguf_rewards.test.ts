/**
 * Model-based rewards on the embedded GGUF backend, through real specs: tiny generated llama models
 * run by llama.cpp, checked against the independent float64 forward pass of the same weights
 * (`referenceForward`). likelihood (logprob, prob, mean_logprob), dpo_implicit on two models,
 * embedding_similarity, a JSON-constrained judge, the response cache, and the CLI end to end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createScorer, type BatchResult, type Rollout, type Scorer } from '../src/index.js';
import type { TinyLlamaModel } from '../src/backends/gguf_writer.js';
import type { BackendStats } from '../src/backends/types.js';
import { logSoftmax, referenceForward, referenceTokenize, tempTinyModel, type TempTinyModel } from '../src/backends/testing/tiny_model.js';
import { rewardkit } from './cli.js';

/** llama.cpp runs in float32 (F32 KV cache), the reference in float64. */
const TOL = 1e-4;
const BETA = 0.1;

const ROLLOUTS: Rollout[] = [
  { id: 'r1', prompt: 'Q: 2+3?\n', completion: '<think>2+3=5</think><answer>5</answer>', reference: '5' },
  { id: 'r2', prompt: 'Q: capital of France?\n', completion: '<think>It is Paris.</think> <answer>Paris</answer>', reference: 'Paris' },
  { id: 'r3', prompt: 'Q: 2+3?\n', completion: '<think>maybe 6</think><answer>6</answer>', reference: 'five' },
];

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Reference log-probs of `continuation`'s tokens after BOS + `prompt`. */
function refLogprobs(model: TinyLlamaModel, prompt: string, continuation: string): number[] {
  const p = [model.bos, ...referenceTokenize(model, prompt)];
  const c = referenceTokenize(model, continuation);
  const { logits } = referenceForward(model, [...p, ...c]);
  return c.map((t, i) => logSoftmax(logits[p.length - 1 + i]!)[t]!);
}

/** The default `likelihood` layout: the reference after prompt, reasoning and "<answer> ". */
function likelihoodContext(r: Rollout): string {
  const completion = r.completion as string;
  return `${r.prompt as string}${completion.slice(0, completion.indexOf('<answer>'))}<answer> `;
}

/** The embedding of a chat/base model without a declared pooling: the last token's final hidden state. */
function refEmbedding(model: TinyLlamaModel, text: string): Float64Array {
  return referenceForward(model, [model.bos, ...referenceTokenize(model, text)]).hidden.at(-1)!;
}

function cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

let policy: TempTinyModel;
let reference: TempTinyModel;
let work: string;
let specPath: string;
let scorer: Scorer;
let first: BatchResult;
let firstStats: Record<string, BackendStats>;

beforeAll(async () => {
  // The judge's prompt (system message, fence notice, scale) is ~1.4k byte tokens: room for it.
  policy = tempTinyModel({ seed: 11, contextLength: 2048 });
  reference = tempTinyModel({ seed: 23 });
  work = mkdtempSync(join(tmpdir(), 'rk-gguf-rewards-'));
  specPath = join(work, 'spec.yaml');
  writeFileSync(
    specPath,
    stringify({
      name: 'gguf-rewards',
      backends: {
        local: { type: 'gguf', path: policy.path, cache: 'cache.sqlite' },
        ref: { type: 'gguf', path: reference.path, cache: 'cache.sqlite' },
      },
      components: [
        { name: 'lp', grader: 'likelihood', backend: 'local', variant: 'logprob' },
        { name: 'p', grader: 'likelihood', backend: 'local', variant: 'prob' },
        { name: 'mlp', grader: 'likelihood', backend: 'local', variant: 'mean_logprob' },
        { name: 'dpo', grader: 'dpo_implicit', policy: 'local', reference_model: 'ref', beta: BETA },
        { name: 'sim', grader: 'embedding_similarity', backend: 'local' },
        { name: 'quality', grader: 'judge', backend: 'local', mode: 'scale', system: 'Rate the response.', max_tokens: 16, parse_retries: 1 },
      ],
      combine: { type: 'weighted_sum', on_null: 'exclude' },
    }),
  );
  scorer = createScorer(specPath);
  first = await scorer.score(ROLLOUTS, { details: true });
  firstStats = scorer.compiled.backends!.stats();
}, 60_000);

afterAll(async () => {
  await scorer?.close();
  policy?.cleanup();
  reference?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('gguf model rewards through a spec', () => {
  it('likelihood logprob is the sum of the reference answer\'s token log-probs of the independent forward pass; prob its exp; mean_logprob its mean', () => {
    for (const [i, r] of ROLLOUTS.entries()) {
      const got = first.results[i]!;
      const lps = refLogprobs(policy.model, likelihoodContext(r), r.reference as string);
      expect(lps.length).toBe(Buffer.byteLength(r.reference as string));
      expect(Math.abs(got.components.lp! - sum(lps)), `${r.id} lp`).toBeLessThan(TOL);
      expect(Math.abs(got.components.p! - Math.exp(sum(lps))), `${r.id} p`).toBeLessThan(TOL);
      expect(Math.abs(got.components.mlp! - sum(lps) / lps.length), `${r.id} mlp`).toBeLessThan(TOL);
      expect(got.details!.lp).toMatchObject({ tokens: lps.length });
      expect((got.errors ?? []).filter((e) => e.component !== 'quality')).toEqual([]);
    }
    // A model far from uniform, so the comparison can tell a wrong context or model apart.
    const lps = ROLLOUTS.map((r) => first.results.find((x) => x.id === r.id)!.components.mlp!);
    expect(Math.max(...lps) - Math.min(...lps)).toBeGreaterThan(0.1);
  });

  it('dpo_implicit on two models of different seeds is beta·(Σ log π − Σ log π_ref) of the reference forward passes', () => {
    const gaps: number[] = [];
    for (const [i, r] of ROLLOUTS.entries()) {
      const lpPolicy = sum(refLogprobs(policy.model, r.prompt as string, r.completion as string));
      const lpRef = sum(refLogprobs(reference.model, r.prompt as string, r.completion as string));
      gaps.push(Math.abs(lpPolicy - lpRef));
      const got = first.results[i]!;
      expect(Math.abs(got.components.dpo! - BETA * (lpPolicy - lpRef)), r.id).toBeLessThan(TOL);
      expect(got.details!.dpo).toMatchObject({ tokens_policy: Buffer.byteLength(r.completion as string), tokens_reference: Buffer.byteLength(r.completion as string) });
      expect(Math.abs((got.details!.dpo as { logprob_reference: number }).logprob_reference - lpRef)).toBeLessThan(TOL);
    }
    // The two models disagree, so a backend mix-up (both sides from one model: 0) would show.
    expect(Math.max(...gaps)).toBeGreaterThan(1);
  });

  it('embedding_similarity is the cosine of the last-token hidden states of the completion and the reference', async () => {
    for (const [i, r] of ROLLOUTS.entries()) {
      const want = cos(refEmbedding(policy.model, (r.completion as string).trim()), refEmbedding(policy.model, (r.reference as string).trim()));
      expect(Math.abs(first.results[i]!.components.sim! - want), r.id).toBeLessThan(TOL);
    }
    // And equal to the cosine of what the backend itself returns for the two texts.
    const local = scorer.compiled.backends!.resolver.get('local', ['embed']);
    const [a, b] = await local.embed([(ROLLOUTS[1]!.completion as string).trim(), 'Paris']);
    expect(Math.abs(first.results[1]!.components.sim! - cos(a!, b!))).toBeLessThan(1e-12);
  });

  it('a judge on the random tiny model: each rollout is a score on the 1–5 grid mapped to [0, 1], or an error of the judge component', () => {
    for (const r of first.results) {
      const q = r.components.quality;
      const errors = r.errors ?? [];
      if (q === null) {
        expect(errors).toHaveLength(1);
        expect(errors[0]!.component).toBe('quality');
        expect(errors[0]!.message).toMatch(/^judge gave no usable answer in 2 attempts: |^backend "local" chat: /);
      } else {
        expect([0, 0.25, 0.5, 0.75, 1]).toContain(q);
        expect(errors).toEqual([]);
        expect(r.details!.quality).toMatchObject({ score_raw: q * 4 + 1, scale_max: 5 });
      }
    }
  });

  it('counts every operation; a fresh scorer on the same cache file makes no model call and gives identical results', async () => {
    const judgeCalls = sum(first.results.map((r) => (r.components.quality === null ? 2 : (r.details!.quality as { attempts: number }).attempts)));
    // local: 3 log-prob requests × 3 likelihood variants (the identical ones join the first one in
    // flight), 3 dpo log-probs, 1 batched embed, the judge's chats. ref: the 3 dpo log-probs.
    expect(firstStats).toMatchObject({
      local: { requests: 9 + 3 + 1 + judgeCalls, cache_hits: 6, calls: 3 + 3 + 1 + judgeCalls, retries: 0, errors: 0 },
      ref: { requests: 3, cache_hits: 0, calls: 3, retries: 0, errors: 0 },
    });
    const again = createScorer(specPath);
    try {
      const second = await again.score(ROLLOUTS, { details: true });
      const stats = again.compiled.backends!.stats();
      expect(stats.local).toEqual({ requests: 13 + judgeCalls, cache_hits: 13 + judgeCalls, calls: 0, retries: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 });
      expect(stats.ref).toEqual({ requests: 3, cache_hits: 3, calls: 0, retries: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 });
      expect(second.results).toEqual(first.results);
    } finally {
      await again.close();
    }
  });
});

describe('rewardkit score with a gguf backend (the real bin)', () => {
  it('prints the backend counter line and writes the components; a second run answers from the cache', () => {
    const dir = policy.dir;
    const spec = join(dir, 'cli.yaml');
    const input = join(dir, 'rollouts.jsonl');
    const out = join(dir, 'scored.jsonl');
    // Paths relative to the spec file.
    writeFileSync(
      spec,
      stringify({
        name: 'gguf-cli',
        backends: { local: { type: 'gguf', path: 'tiny.gguf', cache: 'cli-cache.sqlite' } },
        components: [
          { name: 'lp', grader: 'likelihood', backend: 'local', variant: 'logprob' },
          { name: 'sim', grader: 'embedding_similarity', backend: 'local' },
        ],
      }),
    );
    writeFileSync(input, ROLLOUTS.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const logprobTokens = sum(ROLLOUTS.map((r) => 1 + Buffer.byteLength(likelihoodContext(r) + (r.reference as string))));
    const embedTexts = new Set(ROLLOUTS.flatMap((r) => [(r.completion as string).trim(), (r.reference as string).trim()]));
    const embedTokens = sum([...embedTexts].map((t) => 1 + Buffer.byteLength(t)));

    const run1 = rewardkit(['score', '--spec', spec, '--in', input, '--out', out]);
    expect(run1.code, run1.stderr).toBe(0);
    expect(run1.stdout).toMatch(/scored 3 rollouts in 2 groups with spec "gguf-cli"/);
    expect(run1.stdout).toContain(`backend local: 4 requests, 0 from cache, 4 calls, 0 retries, 0 failed; tokens ${logprobTokens + embedTokens} in, 0 out`);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; components: Record<string, number> });
    expect(rows.map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
    rows.forEach((row, i) => {
      const r = ROLLOUTS[i]!;
      expect(Math.abs(row.components.lp! - sum(refLogprobs(policy.model, likelihoodContext(r), r.reference as string)))).toBeLessThan(TOL);
      expect(Math.abs(row.components.sim! - first.results[i]!.components.sim!)).toBeLessThan(1e-9);
    });

    const run2 = rewardkit(['score', '--spec', spec, '--in', input, '--out', out]);
    expect(run2.code, run2.stderr).toBe(0);
    expect(run2.stdout).toContain('backend local: 4 requests, 4 from cache, 0 calls, 0 retries, 0 failed; tokens 0 in, 0 out');
    expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual(rows);
  });
});
