import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';

/** A loaded `tokenizer.json`, counting the tokens of a response as the policy's tokenizer does. */
export interface TokenCounter {
  /** Absolute path of the `tokenizer.json` it was loaded from. */
  readonly path: string;
  /**
   * Length in code points of the longest vocabulary entry: no token covers more characters of the
   * text, so `⌈code points / maxTokenChars⌉` is a lower bound of any honest count.
   */
  readonly maxTokenChars: number;
  /**
   * Number of tokens of `text` encoded without special tokens (no BOS/EOS added: the response's own
   * tokens), never below `⌈code points / maxTokenChars⌉` (see {@link loadTokenizer}). When that
   * floor alone is above `enough` (a length past which the caller's score no longer changes), the
   * floor is returned without encoding; a text over 64 Ki characters is encoded in pieces of about
   * 16 Ki cut before a space, and counting stops (returning a count above `enough`) as soon as the
   * pieces pass `enough` by more than one token per piece. A count at or below `enough` is always
   * the exact encoding of the whole text. So a huge completion costs about `enough` tokens of BPE
   * work, not a full pass.
   */
  count(text: string, enough?: number): number;
}

const cache = new Map<string, TokenCounter>();

/** Characters per piece when a long text is counted piece by piece (see `TokenCounter.count`). */
const PIECE = 16_384;

/**
 * Loads a Hugging Face `tokenizer.json` (BPE, WordPiece, Unigram models, with their normalizers and
 * pre-tokenizers) with `@huggingface/tokenizers`, a pure-JS implementation that matches the Rust
 * `tokenizers` library. `file` is the JSON file or a directory holding `tokenizer.json` (a model
 * folder), relative paths resolved against `baseDir`; a `tokenizer_config.json` beside it is read
 * too when present. Loaded once per absolute path per process (worker threads load their own).
 *
 * Counting never goes below `⌈code points / longest vocabulary entry⌉`: a tokenizer that maps a long
 * unknown word to a single `[UNK]` (WordPiece, WordLevel) would otherwise let a 300,000-character
 * word count as one token. For byte-level BPE (GPT-2, Llama 3, Qwen) the floor never binds, since no
 * token covers more characters than its vocabulary entry has.
 *
 * Throws an `Error` saying what is wrong (missing file, not JSON, not a tokenizer the library reads).
 *
 * @example
 * const t = loadTokenizer('tokenizer.json', specDir);
 * t.count('Hello world') // → 2 with GPT-2's tokenizer
 */
export function loadTokenizer(file: string, baseDir: string): TokenCounter {
  let path = resolve(baseDir, file);
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'tokenizer.json');
  const hit = cache.get(path);
  if (hit) return hit;
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read tokenizer file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new Error(`tokenizer file ${path} is not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof (json as { model?: unknown }).model !== 'object')
    throw new Error(`tokenizer file ${path} is not a Hugging Face tokenizer.json (no "model" object)`);
  let config: unknown = {};
  const configPath = join(dirname(path), 'tokenizer_config.json');
  if (existsSync(configPath)) {
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read ${configPath}: ${(e as Error).message}`);
    }
  }
  const j = json as Record<string, unknown>;
  // The library iterates these; a hand-written tokenizer.json may leave them out.
  const full = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...j };
  let tok: Tokenizer;
  try {
    tok = new (library().Tokenizer)(full, config as object);
    tok.encode('a', { add_special_tokens: false });
  } catch (e) {
    throw new Error(`cannot load tokenizer ${path}: ${(e as Error).message}`);
  }
  let maxTokenChars = 1;
  for (const token of tok.get_vocab(true).keys()) {
    const n = codePoints(token);
    if (n > maxTokenChars) maxTokenChars = n;
  }
  const counter: TokenCounter = {
    path,
    maxTokenChars,
    count(text: string, enough = Infinity): number {
      if (text.length === 0) return 0;
      const floor = Math.ceil(codePoints(text) / maxTokenChars);
      if (floor > enough) return floor;
      const encoded = (t: string) => tok.encode(t, { add_special_tokens: false }).ids.length;
      if (enough !== Infinity && text.length > 4 * PIECE) {
        let sum = 0;
        let pieces = 0;
        for (let start = 0; start < text.length; ) {
          let end = Math.min(text.length, start + PIECE);
          if (end < text.length) {
            const cut = text.lastIndexOf(' ', end);
            if (cut > start + PIECE / 2) end = cut; // before a space: GPT-2-style pre-tokenizers split there anyway
          }
          sum += encoded(text.slice(start, end));
          pieces++;
          if (sum - pieces > enough) return Math.max(sum - pieces, floor);
          start = end;
        }
      }
      return Math.max(encoded(text), floor);
    },
  };
  cache.set(path, counter);
  return counter;
}

let lib: typeof import('@huggingface/tokenizers') | null = null;

/** The tokenizer library, loaded on first use (a spec without `tokenizer:` never pays for it). */
function library(): typeof import('@huggingface/tokenizers') {
  return (lib ??= createRequire(import.meta.url)('@huggingface/tokenizers') as typeof import('@huggingface/tokenizers'));
}

/** Number of code points (a surrogate pair counts once). */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
