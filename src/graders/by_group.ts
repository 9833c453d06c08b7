import type { Sample } from '../rollout/types.js';
import type { GradeOutput } from './types.js';

/**
 * Runs a group grader once per group of `samples` (all groups at once; the backend bounds concurrency)
 * and returns the outputs in input order. The pipeline passes one group at a time; a caller passing
 * several still gets per-group judgements.
 *
 * @example
 * await byGroup(samples, async (members) => members.map(() => 1)) // → one output per sample
 */
export async function byGroup(samples: readonly Sample[], judge: (members: readonly Sample[], group: string) => Promise<GradeOutput[]>): Promise<GradeOutput[]> {
  const groups = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const idx = groups.get(s.group);
    if (idx) idx.push(i);
    else groups.set(s.group, [i]);
  });
  const out = new Array<GradeOutput>(samples.length);
  await Promise.all(
    [...groups].map(async ([group, idx]) => {
      const outs = await judge(
        idx.map((i) => samples[i]!),
        group,
      );
      idx.forEach((i, k) => (out[i] = outs[k]!));
    }),
  );
  return out;
}
