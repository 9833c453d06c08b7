/**
 * Test helpers for the embedded GGUF backend: a tiny model in a temp directory, and an independent
 * forward pass of the same weights in plain TypeScript (float64), written from the llama architecture's
 * definition rather than from llama.cpp: RMSNorm, rotary embeddings on adjacent pairs, causal
 * multi-head attention (grouped-query when kvHeads < heads), a SwiGLU feed-forward block, and the
 * output head. The backend's numbers are checked against it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyLlamaGguf, type TinyLlamaModel, type TinyLlamaOptions } from '../gguf_writer.js';

/** A tiny model written to a fresh temp directory; `cleanup()` removes the directory. */
export interface TempTinyModel {
  dir: string;
  path: string;
  model: TinyLlamaModel;
  cleanup(): void;
}

/**
 * Writes a tiny llama GGUF into a new temp directory.
 *
 * @example
 * const tiny = tempTinyModel({ seed: 3 });
 * // … createGgufTransport({ type: 'gguf', path: tiny.path }, tiny.dir) …
 * tiny.cleanup();
 */
export function tempTinyModel(opts: TinyLlamaOptions = {}, file = 'tiny.gguf'): TempTinyModel {
  const dir = mkdtempSync(join(tmpdir(), 'rewardkit-gguf-'));
  const path = join(dir, file);
  const model = writeTinyLlamaGguf(path, opts);
  return { dir, path, model, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Token ids of `text` under the byte-level vocabulary (no extra tokens): one byte token per UTF-8
 * byte, the space as `▁`. No BOS.
 *
 * @example
 * referenceTokenize(model, 'a b') // → [100, 259, 101]
 */
export function referenceTokenize(model: TinyLlamaModel, text: string): number[] {
  return [...Buffer.from(text, 'utf8')].map((b) => (b === 0x20 ? model.space : model.byteBase + b));
}

/** What the forward pass returns for each position. */
export interface ForwardOutput {
  /** Logits of the next token after each position (`[position][vocab]`). */
  logits: Float64Array[];
  /** Hidden state after `output_norm` at each position (what an embedding context reads). */
  hidden: Float64Array[];
}

function matvec(w: Float32Array, rows: number, cols: number, x: Float64Array): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const off = r * cols;
    for (let c = 0; c < cols; c++) s += w[off + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * scale * weight[i]!);
}

/** Rotates each adjacent pair (2i, 2i+1) of every head by pos·base^(−2i/headDim), in place. */
function rope(v: Float64Array, nHeads: number, headDim: number, pos: number, base: number): void {
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      const theta = pos * Math.pow(base, (-2 * i) / headDim);
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      const j = h * headDim + 2 * i;
      const a = v[j]!;
      const b = v[j + 1]!;
      v[j] = a * c - b * s;
      v[j + 1] = a * s + b * c;
    }
  }
}

/**
 * Runs the model over `tokens` (include the BOS yourself) and returns logits and final hidden states
 * at every position.
 *
 * @example
 * const { logits } = referenceForward(model, [model.bos, ...referenceTokenize(model, 'hi')]);
 */
export function referenceForward(model: TinyLlamaModel, tokens: readonly number[]): ForwardOutput {
  const { embd, heads, kvHeads, headDim, ffn, layers, eps, ropeBase } = model.params;
  const kvDim = kvHeads * headDim;
  const nVocab = model.vocab.length;
  const w = (name: string) => {
    const t = model.tensors.get(name);
    if (!t) throw new Error(`no tensor ${name}`);
    return t.data;
  };
  const emb = w('token_embd.weight');
  let xs = tokens.map((t) => Float64Array.from(emb.subarray(t * embd, (t + 1) * embd)));
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}`;
    const qs: Float64Array[] = [];
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    xs.forEach((x, pos) => {
      const h = rmsNorm(x, w(`${b}.attn_norm.weight`), eps);
      const q = matvec(w(`${b}.attn_q.weight`), embd, embd, h);
      const k = matvec(w(`${b}.attn_k.weight`), kvDim, embd, h);
      rope(q, heads, headDim, pos, ropeBase);
      rope(k, kvHeads, headDim, pos, ropeBase);
      qs.push(q);
      ks.push(k);
      vs.push(matvec(w(`${b}.attn_v.weight`), kvDim, embd, h));
    });
    xs = xs.map((x, pos) => {
      const att = new Float64Array(embd);
      for (let hd = 0; hd < heads; hd++) {
        const kvh = Math.floor(hd / (heads / kvHeads));
        const scores = new Float64Array(pos + 1);
        for (let j = 0; j <= pos; j++) {
          let s = 0;
          for (let d = 0; d < headDim; d++) s += qs[pos]![hd * headDim + d]! * ks[j]![kvh * headDim + d]!;
          scores[j] = s / Math.sqrt(headDim);
        }
        const probs = softmax(scores);
        for (let j = 0; j <= pos; j++) {
          for (let d = 0; d < headDim; d++) att[hd * headDim + d]! += probs[j]! * vs[j]![kvh * headDim + d]!;
        }
      }
      const o = matvec(w(`${b}.attn_output.weight`), embd, embd, att);
      const x1 = x.map((v, i) => v + o[i]!);
      const h = rmsNorm(x1, w(`${b}.ffn_norm.weight`), eps);
      const gate = matvec(w(`${b}.ffn_gate.weight`), ffn, embd, h);
      const up = matvec(w(`${b}.ffn_up.weight`), ffn, embd, h);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      const down = matvec(w(`${b}.ffn_down.weight`), embd, ffn, act);
      return x1.map((v, i) => v + down[i]!);
    });
  }
  const hidden = xs.map((x) => rmsNorm(x, w('output_norm.weight'), eps));
  const logits = hidden.map((h) => matvec(w('output.weight'), nVocab, embd, h));
  return { logits, hidden };
}

/**
 * Softmax of a vector (max-subtracted).
 *
 * @example
 * softmax(Float64Array.from([0, 0])) // → [0.5, 0.5]
 */
export function softmax(x: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  const e = x.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * Log-softmax of a vector.
 *
 * @example
 * logSoftmax(Float64Array.from([0, 0]))[0] // → -0.693…
 */
export function logSoftmax(x: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  return x.map((v) => v - lse);
}

/**
 * Index of the largest value (the first one on ties).
 *
 * @example
 * argmax(Float64Array.from([1, 3, 2])) // → 1
 */
export function argmax(x: Float64Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * The text of token ids the way llama.cpp's detokenizer renders them: byte tokens' bytes, `▁` as a
 * space, control tokens as nothing, all decoded as UTF-8 at once.
 *
 * @example
 * referenceDecode(model, [100, 259, 101]) // → 'a b'
 */
export function referenceDecode(model: TinyLlamaModel, ids: readonly number[]): string {
  const bytes: number[] = [];
  for (const id of ids) {
    if (id === model.space) bytes.push(0x20);
    else if (id >= model.byteBase && id < model.byteBase + 256) bytes.push(id - model.byteBase);
    else if (id > model.space) bytes.push(...Buffer.from(model.vocab[id]!.replaceAll('\u2581', ' '), 'utf8'));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/**
 * Greedy generation with the reference forward pass: up to `max` tokens after `prompt` (BOS included
 * by the caller), stopping after EOS (not included).
 *
 * @example
 * referenceGreedy(model, [model.bos, ...referenceTokenize(model, 'hi')], 8)
 */
export function referenceGreedy(model: TinyLlamaModel, prompt: readonly number[], max: number): number[] {
  const ctx = [...prompt];
  const out: number[] = [];
  while (out.length < max) {
    const { logits } = referenceForward(model, ctx);
    const next = argmax(logits[ctx.length - 1]!);
    if (next === model.eos) break;
    out.push(next);
    ctx.push(next);
  }
  return out;
}
