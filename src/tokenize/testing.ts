import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** GPT-2's byte → printable character map, as byte-level BPE vocabularies spell bytes. */
function byteChars(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(keep(b) ? b : 256 + extra++));
  return out;
}

/**
 * A tiny but real byte-level BPE `tokenizer.json` (GPT-2's pre-tokenizer, the 256 byte tokens and a
 * few merges: `the`, ` the`, `aa`, `aaaa`), for tests. Encoded with `@huggingface/tokenizers`:
 * "the the aaaa" → `the`, `Ġthe`, `Ġ`, `aaaa` (4 tokens).
 */
export function tinyBpeTokenizer(): object {
  const vocab: Record<string, number> = {};
  for (const c of byteChars()) vocab[c] = Object.keys(vocab).length;
  const merges: [string, string][] = [
    ['Ġ', 't'],
    ['h', 'e'],
    ['Ġt', 'he'],
    ['t', 'he'],
    ['a', 'a'],
    ['aa', 'aa'],
  ];
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: Object.keys(vocab).length, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

/** A tiny WordPiece `tokenizer.json` (BERT-style: a word longer than 100 characters becomes one `[UNK]`). */
export function tinyWordPieceTokenizer(): object {
  const words = ['[UNK]', 'hello', 'world', 'the', '##s'];
  return {
    version: '1.0',
    added_tokens: [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(words.map((w, i) => [w, i])) },
  };
}

/** Writes `json` as `tokenizer.json` in a fresh temporary directory; returns the directory. */
export function writeTokenizerDir(json: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'rk-tok-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  return dir;
}
