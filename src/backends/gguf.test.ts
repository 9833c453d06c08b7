import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignContinuation, createGgufTransport, ggufConfigSchema, ggufMetadataProblem, type ContinuationTokenizer } from './gguf.js';
import { BackendError, type LogprobResponse, type Transport } from './types.js';
import type { TinyLlamaModel } from './gguf_writer.js';
import {
  logSoftmax,
  referenceDecode,
  referenceForward,
  referenceGreedy,
  referenceTokenize,
  tempTinyModel,
  type TempTinyModel,
} from './testing/tiny_model.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const signal = new AbortController().signal;
/** The backend runs llama.cpp in float32 (F32 KV cache); the reference runs in float64. */
const TOL = 1e-5;

function open(tiny: TempTinyModel, extra: Record<string, unknown> = {}): Transport {
  return createGgufTransport(ggufConfigSchema.parse({ type: 'gguf', path: 'tiny.gguf', ...extra }), tiny.dir);
}

/** Reference log-probs of `continuation`'s tokens after BOS + `prompt` (byte-level tokenisation). */
function referenceLogprobs(model: TinyLlamaModel, prompt: string, continuation: string): number[] {
  const p = [model.bos, ...referenceTokenize(model, prompt)];
  const c = referenceTokenize(model, continuation);
  const { logits } = referenceForward(model, [...p, ...c]);
  return c.map((t, i) => logSoftmax(logits[p.length - 1 + i]!)[t]!);
}

function loadedNativeLibraries(): string[] {
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  return report.sharedObjects.filter((s) => /llama-addon\.node|libllama|libggml/.test(s));
}

let tiny: TempTinyModel;
let backend: Transport;
const extras: TempTinyModel[] = [];
const opened: Transport[] = [];

function extraModel(opts: Parameters<typeof tempTinyModel>[0]): TempTinyModel {
  const t = tempTinyModel(opts);
  extras.push(t);
  return t;
}
function extraTransport(t: TempTinyModel, config: Record<string, unknown> = {}): Transport {
  const tr = open(t, config);
  opened.push(tr);
  return tr;
}

beforeAll(() => {
  tiny = tempTinyModel({ seed: 11 });
  backend = open(tiny);
});

afterAll(async () => {
  for (const t of opened) await t.close?.();
  await backend?.close?.();
  tiny?.cleanup();
  for (const t of extras) t.cleanup();
});

describe('gguf config', () => {
  it('fills the documented defaults and rejects unknown keys', () => {
    expect(ggufConfigSchema.parse({ type: 'gguf', path: 'm.gguf' })).toEqual({
      type: 'gguf',
      path: 'm.gguf',
      threads: 1,
      gpu: false,
      exact: true,
      pooling: 'model',
    });
    expect(ggufConfigSchema.safeParse({ type: 'gguf', path: 'm.gguf', thread: 2 }).success).toBe(false);
    expect(ggufConfigSchema.safeParse({ type: 'gguf', path: 'm.gguf', threads: 0 }).success).toBe(false);
    expect(ggufConfigSchema.safeParse({ type: 'gguf', path: 'm.gguf', pooling: 'cls' }).success).toBe(false);
  });

  it('describes every field', () => {
    for (const [key, field] of Object.entries(ggufConfigSchema.shape)) expect(field.description, key).toBeTruthy();
  });

  it('names the model by absolute path, file identity and result-changing settings', () => {
    const a = open(tiny);
    expect(a.type).toBe('gguf');
    expect(a.model).toMatch(new RegExp(`^${tiny.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@\\d+-\\d+$`));
    expect(open(tiny, { exact: false }).model).toBe(`${a.model}?exact=false`);
    expect(open(tiny, { pooling: 'mean' }).model).toBe(`${a.model}?pooling=mean`);
    expect(open(tiny, { threads: 2 }).model).toBe(a.model);
    expect(a.reward).toBeUndefined();
  });
});

describe('gguf metadata and continuation checks (no model needed)', () => {
  it('ggufMetadataProblem names the first missing key', () => {
    const ok = {
      general: { architecture: 'llama' },
      llama: { context_length: 8, embedding_length: 4, block_count: 1, feed_forward_length: 8, attention: { head_count: 1, layer_norm_rms_epsilon: 1e-5 } },
      tokenizer: { ggml: { model: 'llama', tokens: ['a', 'b'], token_type: [1, 1], bos_token_id: 1 } },
    };
    expect(ggufMetadataProblem(ok)).toBeUndefined();
    expect(ggufMetadataProblem({})).toBe('missing metadata key "general.architecture"');
    const without = (mutate: (m: typeof ok) => void) => {
      const m = structuredClone(ok);
      mutate(m);
      return ggufMetadataProblem(m);
    };
    expect(without((m) => delete (m.llama as Partial<typeof m.llama>).feed_forward_length)).toBe('missing metadata key "llama.feed_forward_length"');
    expect(without((m) => delete (m.llama.attention as Partial<typeof m.llama.attention>).head_count)).toBe('missing metadata key "llama.attention.head_count"');
    expect(without((m) => delete (m.llama.attention as Partial<typeof m.llama.attention>).layer_norm_rms_epsilon)).toMatch(/layer_norm_rms_epsilon/);
    expect(without((m) => (m.tokenizer.ggml.token_type = [1]))).toMatch(/token_type" has 1 entries for 2 tokens/);
    expect(without((m) => (m.tokenizer.ggml.bos_token_id = 7))).toMatch(/bos_token_id" = 7 is not a token id/);
  });

  // A character tokenizer that, like SentencePiece with add_space_prefix, starts every text with "▁"
  // (and cannot trim it): separate tokenisations never equal the whole one.
  const prefixing: ContinuationTokenizer<string> = {
    tokenize: (text) => ['▁', ...text],
    detokenize: (tokens) => tokens.join('').replace(/^▁/, ''),
  };
  // Characters, except that "ab" is one token.
  const merging: ContinuationTokenizer<string> = {
    tokenize: (text) => text.match(/ab|[\s\S]/g) ?? [],
    detokenize: (tokens) => tokens.join(''),
  };

  it('alignContinuation uses the separate tokenisations when they equal the whole', () => {
    expect(alignContinuation(merging, 'xab', 'ab')).toEqual({ prompt: ['x', 'ab'], continuation: ['ab'] });
  });

  it('alignContinuation splits the whole tokenisation where its text reaches the prompt end', () => {
    expect(alignContinuation(prefixing, 'Q:', ' 4')).toEqual({ prompt: ['▁', 'Q', ':'], continuation: [' ', '4'] });
  });

  it('alignContinuation rejects a boundary inside a token and shows both tokenisations', () => {
    expect(() => alignContinuation(merging, 'xa', 'b')).toThrow(/boundary falls inside a token: .*\["x","a"\].*\["b"\].*\["x","ab"\]/);
  });
});

describe('gguf backend on a tiny generated model', () => {
  it('the native module is not loaded merely by importing gguf.ts and building a transport', () => {
    const script = join(tiny.dir, 'import-only.mts');
    writeFileSync(
      script,
      [
        `import { createGgufTransport, ggufConfigSchema } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/backends/gguf.ts')).href)};`,
        `const t = createGgufTransport(ggufConfigSchema.parse({ type: 'gguf', path: 'missing.gguf' }), '/nonexistent');`,
        `const libs = process.report.getReport().sharedObjects.filter((s) => /llama-addon\\.node|libllama|libggml/.test(s));`,
        `console.log(JSON.stringify({ libs, type: t.type, ops: ['chat', 'logprobs', 'embed', 'reward'].filter((k) => typeof t[k] === 'function') }));`,
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ libs: [], type: 'gguf', ops: ['chat', 'logprobs', 'embed'] });
  });

  it('per-token log-probs agree with an independent forward pass', async () => {
    const cases: [string, string][] = [
      ['The answer is', ' 42.'],
      ['', 'hello'],
      ['Q: naïve café?\nA:', ' ok, é!'],
      ['x', 'a much longer continuation that spans several dozen byte tokens'],
      // Longer than one scoring step (256 tokens), so the KV cache carries across steps.
      [`${'Context line with some words. '.repeat(9)}\nSo:`, ' the end of a long text, well past the step.'],
    ];
    for (const [prompt, continuation] of cases) {
      const got = await backend.logprobs!({ prompt, continuation }, signal);
      const want = referenceLogprobs(tiny.model, prompt, continuation);
      expect(got.logprobs).toHaveLength(want.length);
      got.logprobs.forEach((lp, i) => expect(Math.abs(lp - want[i]!), `${JSON.stringify(continuation)} token ${i}`).toBeLessThan(TOL));
      expect(got.usage).toEqual({ prompt_tokens: 1 + Buffer.byteLength(prompt + continuation), completion_tokens: 0 });
    }
    const r = await backend.logprobs!({ prompt: 'The answer is', continuation: ' 42.' }, signal);
    expect(r.tokens).toEqual([' ', '4', '2', '.']);
    // Far from uniform (−ln 260 ≈ −5.56 everywhere): the check above can tell models apart.
    expect(Math.max(...r.logprobs) - Math.min(...r.logprobs)).toBeGreaterThan(1);
  });

  it('an empty continuation scores nothing', async () => {
    expect(await backend.logprobs!({ prompt: 'abc', continuation: '' }, signal)).toEqual({
      tokens: [],
      logprobs: [],
      usage: { prompt_tokens: 4, completion_tokens: 0 },
    });
  });

  it('log-probs follow the chain rule and come from the full next-token distribution', async () => {
    const prompt = 'Reward: ';
    const whole = await backend.logprobs!({ prompt, continuation: 'yes, 10' }, signal);
    const first = await backend.logprobs!({ prompt, continuation: 'yes,' }, signal);
    const rest = await backend.logprobs!({ prompt: `${prompt}yes,`, continuation: ' 10' }, signal);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum(whole.logprobs) - (sum(first.logprobs) + sum(rest.logprobs)))).toBeLessThan(TOL);
    [...first.logprobs, ...rest.logprobs].forEach((lp, i) => expect(Math.abs(lp - whole.logprobs[i]!)).toBeLessThan(TOL));

    // Every one-byte continuation: each log-prob is the log of its entry in the full distribution,
    // and together with the tokens no text can reach (control tokens, bytes ≥ 0x80, the raw 0x20
    // byte) they sum to 1.
    const dist = logSoftmax(referenceForward(tiny.model, [tiny.model.bos, ...referenceTokenize(tiny.model, prompt)]).logits.at(-1)!);
    let mass = 0;
    const reached = new Set<number>();
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      const r = await backend.logprobs!({ prompt, continuation: ch }, signal);
      const id = referenceTokenize(tiny.model, ch)[0]!;
      expect(r.logprobs).toHaveLength(1);
      expect(Math.abs(r.logprobs[0]! - dist[id]!), `byte ${c}`).toBeLessThan(TOL);
      mass += Math.exp(r.logprobs[0]!);
      reached.add(id);
    }
    const unreachable = [...dist.keys()].filter((id) => !reached.has(id)).reduce((s, id) => s + Math.exp(dist[id]!), 0);
    expect(Math.abs(mass + unreachable - 1)).toBeLessThan(TOL);
  });

  it('results are deterministic across calls, concurrent callers and a fresh transport', async () => {
    const reqs = [
      { prompt: 'Is 7 prime?', continuation: ' Yes.' },
      { prompt: 'abc', continuation: 'def' },
      { prompt: '', continuation: 'zzz' },
    ];
    const sequential: LogprobResponse[] = [];
    for (const r of reqs) sequential.push(await backend.logprobs!(r, signal));
    const concurrent = await Promise.all([...reqs, ...reqs].map((r) => backend.logprobs!(r, signal)));
    expect(concurrent).toEqual([...sequential, ...sequential]);
    const fresh = extraTransport(tiny);
    for (const [i, r] of reqs.entries()) expect(await fresh.logprobs!(r, signal)).toEqual(sequential[i]);
    const chat = { messages: [{ role: 'user' as const, content: 'go' }], max_tokens: 8 };
    expect(await fresh.chat!(chat, signal)).toEqual(await backend.chat!(chat, signal));
    // More threads split the same arithmetic differently at most by rounding.
    const twoThreads = await extraTransport(tiny, { threads: 2 }).logprobs!(reqs[0]!, signal);
    twoThreads.logprobs.forEach((lp, i) => expect(Math.abs(lp - sequential[0]!.logprobs[i]!)).toBeLessThan(TOL));
  });

  it('exact: false (F16 KV cache) stays close to the reference, only less exactly', async () => {
    const r = await extraTransport(tiny, { exact: false }).logprobs!({ prompt: 'The answer is', continuation: ' 42.' }, signal);
    const want = referenceLogprobs(tiny.model, 'The answer is', ' 42.');
    r.logprobs.forEach((lp, i) => expect(Math.abs(lp - want[i]!)).toBeLessThan(1e-2));
  });

  it('rejects a prompt/continuation boundary inside a token, and scores merged tokens otherwise', async () => {
    const merged = extraModel({ seed: 5, extraTokens: ['ab'] });
    const t = extraTransport(merged);
    await expect(t.logprobs!({ prompt: 'xa', continuation: 'b' }, signal)).rejects.toThrow(/boundary falls inside a token/);
    const ok = await t.logprobs!({ prompt: 'x', continuation: 'abab' }, signal);
    expect(ok.tokens).toEqual(['ab', 'ab']);
    expect(ok.logprobs.every((x) => Number.isFinite(x) && x < 0)).toBe(true);
  });

  it('greedy chat: every generated token is the argmax of the forward pass (plain layout)', async () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Say hi.' },
    ];
    const prompt = [tiny.model.bos, ...referenceTokenize(tiny.model, 'system: Be brief.\nuser: Say hi.\nassistant:')];
    const want = referenceGreedy(tiny.model, prompt, 16);
    const r = await backend.chat!({ messages, max_tokens: 16 }, signal);
    expect(r.text).toBe(referenceDecode(tiny.model, want));
    expect(r.usage).toEqual({ prompt_tokens: prompt.length, completion_tokens: want.length });
    expect(r.finish_reason).toBe(want.length === 16 ? 'length' : 'stop');
  });

  it('chat honours max_tokens and stop strings', async () => {
    const messages = [{ role: 'user' as const, content: 'Count: 1 2 3' }];
    const prompt = [tiny.model.bos, ...referenceTokenize(tiny.model, 'user: Count: 1 2 3\nassistant:')];
    const want = referenceGreedy(tiny.model, prompt, 24);
    const full = referenceDecode(tiny.model, want);
    const three = await backend.chat!({ messages, max_tokens: 3 }, signal);
    expect(three).toEqual({ text: referenceDecode(tiny.model, want.slice(0, 3)), finish_reason: 'length', usage: { prompt_tokens: prompt.length, completion_tokens: 3 } });
    // Stop at the first printable ASCII character after the start; the stop text itself is cut.
    const at = [...full].findIndex((ch, i) => i > 0 && /[!-~]/.test(ch));
    expect(at).toBeGreaterThan(0);
    const stop = full[at]!;
    const cut = await backend.chat!({ messages, max_tokens: 24, stop: [stop] }, signal);
    expect(cut.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(cut.finish_reason).toBe('stop');
    expect(await backend.chat!({ messages, max_tokens: 0 }, signal)).toEqual({ text: '', finish_reason: 'length', usage: { prompt_tokens: prompt.length, completion_tokens: 0 } });
  });

  it('chat uses the model\'s own template and stops at its end-of-turn marker, unless chat_template overrides it', async () => {
    // The end-of-turn marker "K" was picked because this model's greedy answer reaches it (5th token).
    const template = '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}K{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}';
    const withTpl = extraModel({ seed: 11, chatTemplate: template });
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const prompt = [tiny.model.bos, ...referenceTokenize(tiny.model, '<|user|>HiK<|assistant|>')];
    const greedy = referenceGreedy(tiny.model, prompt, 30);
    const end = greedy.indexOf(tiny.model.byteBase + 'K'.charCodeAt(0));
    expect(end).toBeGreaterThan(0);
    const r = await extraTransport(withTpl).chat!({ messages, max_tokens: 30 }, signal);
    expect(r).toEqual({
      text: referenceDecode(tiny.model, greedy.slice(0, end)),
      finish_reason: 'stop',
      usage: { prompt_tokens: prompt.length, completion_tokens: end + 1 },
    });

    const plain = await extraTransport(withTpl, { chat_template: 'plain' }).chat!({ messages, max_tokens: 6 }, signal);
    const plainPrompt = [tiny.model.bos, ...referenceTokenize(tiny.model, 'user: Hi\nassistant:')];
    expect(plain.text).toBe(referenceDecode(tiny.model, referenceGreedy(tiny.model, plainPrompt, 6)));
    // node-llama-cpp lays the answer's prefix out like any other message: "[assistant] ", with the space.
    const custom = extraTransport(tiny, {
      chat_template: '{% for m in messages %}[{{ m.role }}] {{ m.content }};{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}',
    });
    const customGreedy = referenceGreedy(tiny.model, [tiny.model.bos, ...referenceTokenize(tiny.model, '[user] Hi;[assistant] ')], 6);
    const semi = customGreedy.indexOf(tiny.model.byteBase + ';'.charCodeAt(0));
    expect((await custom.chat!({ messages, max_tokens: 6 }, signal)).text).toBe(
      referenceDecode(tiny.model, semi >= 0 ? customGreedy.slice(0, semi) : customGreedy),
    );
    // A template that drops messages fails node-llama-cpp's sanity check: reported under chat_template.
    const broken = extraTransport(tiny, { chat_template: 'always the same' });
    await expect(broken.chat!({ messages, max_tokens: 2 }, signal)).rejects.toThrow(/chat_template: .*template/);
  });

  it('json_schema-constrained chat returns JSON that matches the schema', async () => {
    const schema = {
      type: 'object',
      properties: { score: { enum: [1, 2, 3, 4, 5] }, pass: { type: 'boolean' } },
      required: ['score', 'pass'],
      additionalProperties: false,
    };
    const req = { messages: [{ role: 'user' as const, content: 'Grade: 2+2=5' }], max_tokens: 64, json_schema: { name: 'grade', schema } };
    const r = await backend.chat!(req, signal);
    expect(r.finish_reason).toBe('stop');
    const parsed = JSON.parse(r.text) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['pass', 'score']);
    expect([1, 2, 3, 4, 5]).toContain(parsed.score);
    expect(typeof parsed.pass).toBe('boolean');
    expect(await backend.chat!(req, signal)).toEqual(r);
    // Unconstrained, the same model does not produce JSON at all.
    const free = await backend.chat!({ ...req, json_schema: undefined }, signal);
    expect(() => JSON.parse(free.text)).toThrow();
  });

  it('seeded sampling at temperature > 0 is reproducible', async () => {
    const req = { messages: [{ role: 'user' as const, content: 'Go' }], max_tokens: 12, temperature: 1, seed: 3 };
    const a = await backend.chat!(req, signal);
    expect(await backend.chat!(req, signal)).toEqual(a);
    expect(a.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('embeddings: the last token\'s final hidden state by default, unnormalised and deterministic', async () => {
    const texts = ['hello world', 'x', ''];
    const { vectors, usage } = await backend.embed!(texts, signal);
    expect(vectors.map((v) => v.length)).toEqual([64, 64, 64]);
    texts.forEach((text, i) => {
      const ids = [tiny.model.bos, ...referenceTokenize(tiny.model, text)];
      const want = referenceForward(tiny.model, ids).hidden.at(-1)!;
      vectors[i]!.forEach((v, d) => expect(Math.abs(v - want[d]!)).toBeLessThan(TOL));
    });
    const norm = Math.hypot(...vectors[0]!);
    expect(Math.abs(norm - 1)).toBeGreaterThan(0.5);
    expect(usage).toEqual({ prompt_tokens: 12 + 2 + 1, completion_tokens: 0 });
    expect((await backend.embed!(texts, signal)).vectors).toEqual(vectors);
  });

  it('embeddings: pooling mean averages all positions; pooling last overrides a model that declares mean', async () => {
    const text = 'pool me';
    const ids = [tiny.model.bos, ...referenceTokenize(tiny.model, text)];
    const { hidden } = referenceForward(tiny.model, ids);
    const mean = hidden[0]!.map((_, d) => hidden.reduce((s, h) => s + h[d]!, 0) / hidden.length);
    const last = hidden.at(-1)!;
    const close = (got: number[], want: Float64Array) => got.forEach((v, d) => expect(Math.abs(v - want[d]!)).toBeLessThan(TOL));
    close((await extraTransport(tiny, { pooling: 'mean' }).embed!([text], signal)).vectors[0]!, mean);
    const declaresMean = extraModel({ seed: 11, poolingType: 1 });
    close((await extraTransport(declaresMean).embed!([text], signal)).vectors[0]!, mean);
    close((await extraTransport(declaresMean, { pooling: 'last' }).embed!([text], signal)).vectors[0]!, last);
  });

  it('a file with missing metadata is rejected by key before llama.cpp sees it; the process survives', async () => {
    for (const key of ['llama.feed_forward_length', 'llama.attention.head_count', 'tokenizer.ggml.tokens']) {
      const broken = extraModel({ seed: 1, omitKeys: [key] });
      const err = await extraTransport(broken).logprobs!({ prompt: 'a', continuation: 'b' }, signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect((err as BackendError).message).toContain(`missing metadata key "${key}"`);
      expect((err as BackendError).message).toContain(broken.path);
      expect((err as BackendError).retryable).toBe(false);
      expect((err as BackendError).opts.op).toBe('logprobs');
    }
    // Still alive and still right.
    const r = await backend.logprobs!({ prompt: 'a', continuation: 'b' }, signal);
    expect(Math.abs(r.logprobs[0]! - referenceLogprobs(tiny.model, 'a', 'b')[0]!)).toBeLessThan(TOL);
  });

  it('a missing file and a non-GGUF file are reported with their path', async () => {
    const missing = createGgufTransport(ggufConfigSchema.parse({ type: 'gguf', path: 'nope/absent.gguf' }), tiny.dir);
    await expect(missing.embed!(['a'], signal)).rejects.toThrow(`${join(tiny.dir, 'nope/absent.gguf')}: file not found (spec path "nope/absent.gguf"`);
    const junk = join(tiny.dir, 'junk.gguf');
    writeFileSync(junk, 'not a model at all');
    const bad = createGgufTransport(ggufConfigSchema.parse({ type: 'gguf', path: 'junk.gguf' }), tiny.dir);
    await expect(bad.chat!({ messages: [{ role: 'user', content: 'x' }] }, signal)).rejects.toThrow(`${junk}: not a readable GGUF file`);
  });

  it('an abort stops generation between tokens, rejects with the reason, and leaves the transport usable', async () => {
    await backend.logprobs!({ prompt: 'warm', continuation: ' up' }, signal); // loaded, so the abort lands mid-generation
    const ac = new AbortController();
    const reason = new Error('deadline');
    const pending = backend.chat!({ messages: [{ role: 'user', content: 'long' }], max_tokens: 400 }, ac.signal);
    setImmediate(() => ac.abort(reason));
    await expect(pending).rejects.toBe(reason);
    const aborted = AbortSignal.abort(reason);
    await expect(backend.logprobs!({ prompt: 'a', continuation: 'b' }, aborted)).rejects.toBe(reason);
    const r = await backend.logprobs!({ prompt: 'a', continuation: 'b' }, signal);
    expect(Math.abs(r.logprobs[0]! - referenceLogprobs(tiny.model, 'a', 'b')[0]!)).toBeLessThan(TOL);
  });

  it('reports a context overflow by naming context_size', async () => {
    const small = extraTransport(tiny, { context_size: 256 });
    await expect(small.logprobs!({ prompt: 'p'.repeat(300), continuation: 'q' }, signal)).rejects.toThrow(/more than context_size \(256\)/);
  });

  it('the native runtime is loaded once used, and close() makes the transport refuse calls', async () => {
    expect(loadedNativeLibraries().some((s) => s.endsWith('llama-addon.node'))).toBe(true);
    const t = open(tiny);
    await t.embed!(['a'], signal);
    await t.close!();
    await expect(t.embed!(['a'], signal)).rejects.toThrow(/closed/);
    // Another transport's close does not take the shared runtime away from this one.
    expect((await backend.embed!(['a'], signal)).vectors[0]).toHaveLength(64);
  });
});
