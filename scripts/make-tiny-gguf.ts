/**
 * Writes a tiny llama-architecture GGUF model with deterministic weights and a byte-level vocabulary
 * (see src/backends/gguf_writer.ts), for trying the `gguf` backend without downloading a model.
 * Run: `npx tsx scripts/make-tiny-gguf.ts out.gguf [--seed N] [--layers N] [--embd N] [--heads N] [--ffn N]`.
 * The model's answers are noise; its numbers are real llama.cpp computations.
 */
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { writeTinyLlamaGguf } from '../src/backends/gguf_writer.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string' },
    layers: { type: 'string' },
    embd: { type: 'string' },
    heads: { type: 'string' },
    ffn: { type: 'string' },
  },
});
const out = positionals[0];
if (out === undefined || positionals.length > 1) {
  console.error('usage: npx tsx scripts/make-tiny-gguf.ts out.gguf [--seed N] [--layers N] [--embd N] [--heads N] [--ffn N]');
  process.exit(2);
}
const int = (name: keyof typeof values): number | undefined => {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) {
    console.error(`--${name}: expected an integer, got "${v}"`);
    process.exit(2);
  }
  return n;
};
let model: ReturnType<typeof writeTinyLlamaGguf>;
try {
  model = writeTinyLlamaGguf(out, { seed: int('seed'), layers: int('layers'), embd: int('embd'), heads: int('heads'), ffn: int('ffn') });
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
const p = model.params;
console.log(
  `wrote ${out} (${statSync(out).size} bytes): llama, ${p.layers} layers, embedding ${p.embd}, ${p.heads} heads, ` +
    `FFN ${p.ffn}, vocabulary ${model.vocab.length}, seed ${p.seed}`,
);
