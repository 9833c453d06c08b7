/** Deterministic synthetic GSM8K-style rollouts shared by the benchmarks (score, server). */

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Rollout `i` (groups of 8) of a synthetic GSM8K-style set: the example spec's kinds of completion —
 * right (45%), right with `####` (15%), wrong (20%), unformatted (10%), overlong (10%). `groupOffset`
 * shifts the group numbers so several sets do not share groups.
 */
export function syntheticRollout(i: number, rand: () => number, groupOffset = 0) {
  const g = Math.floor(i / 8) + groupOffset;
  const a = 10 + (g % 90);
  const b = 3 + (g % 17);
  const answer = a * b - b;
  const prompt = `Problem ${g}: a shop has ${a} boxes with ${b} pens each and sells ${b} pens. How many pens are left?`;
  const u = rand();
  const reasoning = `<think>\n${a} boxes × ${b} pens = ${a * b} pens.\nAfter selling ${b}: ${a * b} − ${b} = ${answer}.\n</think>\n`;
  let completion: string;
  if (u < 0.45) completion = `${reasoning}<answer>${answer}</answer>`;
  else if (u < 0.6) completion = `${reasoning}<answer>The answer is #### ${answer}</answer>`;
  else if (u < 0.8) completion = `${reasoning}<answer>${answer + 1 + Math.floor(rand() * 5)}</answer>`;
  else if (u < 0.9) completion = `${a * b} − ${b} = ${answer}. The answer is ${answer}.`;
  else completion = `${reasoning.repeat(6)}<answer>${answer}</answer>`;
  return { id: `p${g}-${i % 8}`, group: `p${g}`, prompt, completion, reference: String(answer) };
}
