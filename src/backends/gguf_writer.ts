/**
 * Writes a tiny llama-architecture GGUF model from deterministic weights, so tests (and users trying the
 * `gguf` backend) can run a real llama.cpp runtime without downloading anything.
 *
 * The model: GGUF v3, every tensor F32, weights drawn from a seeded PRNG (same seed → same bytes), and a
 * byte-level SentencePiece vocabulary: `<unk>`, `<s>`, `</s>` (control tokens), the 256 byte tokens
 * `<0x00>` … `<0xFF>`, and one normal token `▁` for the space. `add_space_prefix` is off, so any text
 * tokenises to one token per byte (a space is `▁`), and tokenising two strings separately equals
 * tokenising their concatenation. Optional `extraTokens` add multi-character tokens (merged by the
 * tokenizer), which break that property on purpose.
 *
 * Weights are kept in PyTorch/numpy order (`[out, in]` for a linear layer); GGUF stores each shape
 * reversed (`ne0` first), which {@link encodeGguf} does. The data bytes are the same row-major array.
 */
import { writeFileSync } from 'node:fs';

/** A GGUF metadata value with its on-disk type. */
export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; value: string[] }
  | { type: 'array'; itemType: 'f32' | 'i32' | 'u32'; value: number[] };

/** One F32 tensor; `shape` in numpy order (outermost first), `data` row-major. */
export interface GgufTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Options of the generated model. Every field has a small default. */
export interface TinyLlamaOptions {
  /** PRNG seed of the weights (default 1). */
  seed?: number;
  /** Transformer blocks (default 2). */
  layers?: number;
  /** Embedding width (default 64). */
  embd?: number;
  /** Attention heads (default 4); `embd` must be a multiple. */
  heads?: number;
  /** Key/value heads (default `heads`); `heads` must be a multiple (grouped-query attention). */
  kvHeads?: number;
  /** Hidden width of the SwiGLU feed-forward block (default 128). */
  ffn?: number;
  /** `llama.context_length` (default 512). */
  contextLength?: number;
  /** `llama.rope.freq_base` (default 10000). */
  ropeBase?: number;
  /** `llama.attention.layer_norm_rms_epsilon` (default 1e-5). */
  eps?: number;
  /** Multi-character normal tokens added after `▁` (the tokenizer merges them), e.g. `['ab']`. */
  extraTokens?: string[];
  /** `tokenizer.chat_template` (a Jinja template), when the model should carry one. */
  chatTemplate?: string;
  /** `llama.pooling_type` (0 none, 1 mean, 2 cls, 3 last), when the model should declare one. */
  poolingType?: number;
  /** Metadata keys to leave out (to build broken files for validation tests). */
  omitKeys?: string[];
  /** Standard deviation of the output-head logits at initialisation, roughly (default 3). */
  logitScale?: number;
}

/** The hyper-parameters of a generated model, all defaults resolved. */
export interface TinyLlamaParams {
  seed: number;
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  contextLength: number;
  ropeBase: number;
  eps: number;
}

/** Everything a reference implementation needs: hyper-parameters, vocabulary and weights (numpy order). */
export interface TinyLlamaModel {
  params: TinyLlamaParams;
  /** Token texts by id. */
  vocab: string[];
  /** SentencePiece token types by id (1 normal, 2 unknown, 3 control, 6 byte). */
  tokenTypes: number[];
  bos: number;
  eos: number;
  unk: number;
  /** Id of the byte token `<0x00>`; byte `b` is `byteBase + b`. */
  byteBase: number;
  /** Id of `▁` (the space). */
  space: number;
  /** Tensors by GGUF name, e.g. `blk.0.attn_q.weight` of shape `[embd, embd]`. */
  tensors: Map<string, GgufTensor>;
}

/** A 32-bit seeded PRNG (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

function resolveParams(opts: TinyLlamaOptions): TinyLlamaParams {
  const layers = opts.layers ?? 2;
  const embd = opts.embd ?? 64;
  const heads = opts.heads ?? 4;
  const kvHeads = opts.kvHeads ?? heads;
  const ffn = opts.ffn ?? 128;
  for (const [k, v] of Object.entries({ layers, embd, heads, kvHeads, ffn })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k}: must be a positive integer, got ${v}`);
  }
  if (embd % heads !== 0) throw new Error(`embd: ${embd} is not a multiple of heads (${heads})`);
  if (heads % kvHeads !== 0) throw new Error(`kvHeads: heads (${heads}) is not a multiple of ${kvHeads}`);
  const headDim = embd / heads;
  if (headDim % 2 !== 0) throw new Error(`embd/heads: the head dimension ${headDim} must be even (RoPE rotates pairs)`);
  return {
    seed: opts.seed ?? 1,
    layers,
    embd,
    heads,
    kvHeads,
    headDim,
    ffn,
    contextLength: opts.contextLength ?? 512,
    ropeBase: opts.ropeBase ?? 10000,
    eps: opts.eps ?? 1e-5,
  };
}

/**
 * The deterministic weights and vocabulary of a tiny llama model (nothing is written).
 *
 * @example
 * const m = tinyLlamaWeights({ seed: 7 });
 * m.tensors.get('token_embd.weight')!.shape // → [260, 64]
 */
export function tinyLlamaWeights(opts: TinyLlamaOptions = {}): TinyLlamaModel {
  const p = resolveParams(opts);
  const vocab = ['<unk>', '<s>', '</s>'];
  const tokenTypes = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL];
  const byteBase = vocab.length;
  for (let b = 0; b < 256; b++) {
    vocab.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes.push(TOKEN_BYTE);
  }
  const space = vocab.length;
  vocab.push('\u2581');
  tokenTypes.push(TOKEN_NORMAL);
  for (const t of opts.extraTokens ?? []) {
    if (vocab.includes(t)) throw new Error(`extraTokens: "${t}" is already in the vocabulary`);
    vocab.push(t);
    tokenTypes.push(TOKEN_NORMAL);
  }
  const nVocab = vocab.length;

  const rand = mulberry32(p.seed);
  // Uniform in [-a, a] has standard deviation a/√3; scaling by 1/√fan_in keeps activations of order 1.
  const uniform = (shape: number[], std: number): Float32Array => {
    const n = shape.reduce((x, y) => x * y, 1);
    const a = std * Math.sqrt(3);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * a;
    return out;
  };
  const around1 = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = 1 + (rand() * 2 - 1) * 0.2;
    return out;
  };
  const tensors = new Map<string, GgufTensor>();
  const add = (name: string, shape: number[], data: Float32Array) => tensors.set(name, { name, shape, data });
  const { embd, ffn, headDim } = p;
  const kvDim = p.kvHeads * headDim;
  add('token_embd.weight', [nVocab, embd], uniform([nVocab, embd], 1));
  for (let l = 0; l < p.layers; l++) {
    const b = `blk.${l}`;
    add(`${b}.attn_norm.weight`, [embd], around1(embd));
    // Larger q/k weights make attention far from uniform, so positions (and RoPE) matter.
    add(`${b}.attn_q.weight`, [embd, embd], uniform([embd, embd], 2 / Math.sqrt(embd)));
    add(`${b}.attn_k.weight`, [kvDim, embd], uniform([kvDim, embd], 2 / Math.sqrt(embd)));
    add(`${b}.attn_v.weight`, [kvDim, embd], uniform([kvDim, embd], 1 / Math.sqrt(embd)));
    add(`${b}.attn_output.weight`, [embd, embd], uniform([embd, embd], 1 / Math.sqrt(embd)));
    add(`${b}.ffn_norm.weight`, [embd], around1(embd));
    add(`${b}.ffn_gate.weight`, [ffn, embd], uniform([ffn, embd], 1 / Math.sqrt(embd)));
    add(`${b}.ffn_down.weight`, [embd, ffn], uniform([embd, ffn], 1 / Math.sqrt(ffn)));
    add(`${b}.ffn_up.weight`, [ffn, embd], uniform([ffn, embd], 1 / Math.sqrt(embd)));
  }
  add('output_norm.weight', [embd], around1(embd));
  add('output.weight', [nVocab, embd], uniform([nVocab, embd], (opts.logitScale ?? 3) / Math.sqrt(embd)));
  return { params: p, vocab, tokenTypes, bos: 1, eos: 2, unk: 0, byteBase, space, tensors };
}

/** The metadata of a tiny llama model, in file order. */
function tinyLlamaMetadata(m: TinyLlamaModel, opts: TinyLlamaOptions): [string, GgufValue][] {
  const p = m.params;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const kv: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: `rewardkit-tiny-llama-seed${p.seed}` }],
    ['general.file_type', u32(0)],
    ['general.alignment', u32(32)],
    ['llama.context_length', u32(p.contextLength)],
    ['llama.embedding_length', u32(p.embd)],
    ['llama.block_count', u32(p.layers)],
    ['llama.feed_forward_length', u32(p.ffn)],
    ['llama.attention.head_count', u32(p.heads)],
    ['llama.attention.head_count_kv', u32(p.kvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: p.eps }],
    ['llama.rope.freq_base', { type: 'f32', value: p.ropeBase }],
    ['llama.rope.dimension_count', u32(p.headDim)],
    ['llama.vocab_size', u32(m.vocab.length)],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: m.vocab }],
    // SentencePiece merges the highest-scoring pair first; extra tokens score by their order.
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: m.vocab.map((_, i) => (i > m.space ? -(i - m.space) : 0)) }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: m.tokenTypes }],
    ['tokenizer.ggml.bos_token_id', u32(m.bos)],
    ['tokenizer.ggml.eos_token_id', u32(m.eos)],
    ['tokenizer.ggml.unknown_token_id', u32(m.unk)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: false }],
  ];
  if (opts.poolingType !== undefined) kv.push(['llama.pooling_type', u32(opts.poolingType)]);
  if (opts.chatTemplate !== undefined) kv.push(['tokenizer.chat_template', { type: 'string', value: opts.chatTemplate }]);
  const omit = new Set(opts.omitKeys ?? []);
  return kv.filter(([k]) => !omit.has(k));
}

const ALIGNMENT = 32;
const VALUE_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;
const GGML_TYPE_F32 = 0;

/** Appends little-endian GGUF fields to a growing list of chunks. */
class ByteSink {
  readonly chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }
  scalar(type: 'u32' | 'i32' | 'f32' | 'u64', v: number): void {
    this[type](v);
  }
}

/**
 * Encodes a GGUF v3 file: header, metadata, tensor infos (shapes reversed to GGUF order), padding to
 * 32 bytes, and the F32 tensor data with each tensor's offset (relative to the data section) aligned.
 *
 * @example
 * const bytes = encodeGguf([['general.architecture', { type: 'string', value: 'llama' }]], []);
 * bytes.subarray(0, 4).toString() // → 'GGUF'
 */
export function encodeGguf(metadata: readonly [string, GgufValue][], tensors: readonly GgufTensor[]): Buffer {
  const out = new ByteSink();
  out.push(Buffer.from('GGUF', 'latin1'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, v] of metadata) {
    out.string(key);
    out.u32(VALUE_TYPE[v.type]);
    switch (v.type) {
      case 'string':
        out.string(v.value);
        break;
      case 'bool':
        out.push(Buffer.from([v.value ? 1 : 0]));
        break;
      case 'array':
        out.u32(VALUE_TYPE[v.itemType]);
        out.u64(v.value.length);
        if (v.itemType === 'string') for (const s of v.value) out.string(s);
        else for (const x of v.value) out.scalar(v.itemType, x);
        break;
      default:
        out.scalar(v.type, v.value);
    }
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const n = t.shape.reduce((x, y) => x * y, 1);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    out.string(t.name);
    out.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) out.u64(d);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offsets.push(offset);
    offset += Math.ceil((n * 4) / ALIGNMENT) * ALIGNMENT;
  }
  out.padTo(ALIGNMENT);
  for (const t of tensors) {
    out.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.padTo(ALIGNMENT);
  }
  return Buffer.concat(out.chunks, out.length);
}

/**
 * Writes a tiny llama GGUF to `path` and returns the model it holds (for a reference implementation).
 * With default options the file is about 470 KB and takes milliseconds.
 *
 * @example
 * const model = writeTinyLlamaGguf(join(tmp, 'tiny.gguf'), { seed: 7, layers: 2, embd: 64, heads: 4, ffn: 128 });
 * model.vocab.length // → 260
 */
export function writeTinyLlamaGguf(path: string, opts: TinyLlamaOptions = {}): TinyLlamaModel {
  const model = tinyLlamaWeights(opts);
  writeFileSync(path, encodeGguf(tinyLlamaMetadata(model, opts), [...model.tensors.values()]));
  return model;
}
