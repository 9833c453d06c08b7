import { describe, expect, it } from 'vitest';
import { scoreBatch } from '../pipeline.js';
import { compileSpec, type CompiledSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import type { Grader } from '../graders/types.js';
import { Slicer } from './slicer.js';

/** Keeps the CPU busy for about `ms` (a CPU-heavy grader call). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A spec whose first component is replaced by `grader` (the second stays an exact match). */
function specWith(grader: Grader): CompiledSpec {
  const c = compileSpec(parseSpec({ components: [{ name: 'heavy', grader: 'exact' }, { name: 'ok', grader: 'exact', weight: 2 }] }));
  return { ...c, graders: [grader, c.graders[1]!] };
}

const rollouts = Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, group: `g${i % 6}`, completion: i % 3 === 0 ? '42' : 'x', reference: '42' }));

/** A sync grader that spins `ms` per call, counts its calls, and fails on every 7th rollout. */
function heavy(ms: number): { grader: Grader; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    grader: {
      scope: 'rollout',
      grade(s) {
        calls++;
        spin(ms);
        if (s.rollout.id.endsWith('7')) throw new Error(`cannot grade ${s.rollout.id}`);
        return { score: s.completion.length, details: { n: s.completion.length } };
      },
    },
  };
}

describe('Slicer: time-sliced grading on the event loop', () => {
  it('gives the same rewards, components, details and errors as unsliced grading', async () => {
    const spec = specWith(heavy(1).grader);
    const plain = await scoreBatch(spec, rollouts, { details: true });
    const sliced = await scoreBatch(new Slicer(3).spec(spec), rollouts, { details: true });
    expect(sliced.results).toEqual(plain.results);
    expect(Array.from(sliced.columns.rewards)).toEqual(Array.from(plain.columns.rewards));
    expect(plain.results.filter((r) => r.errors).length).toBeGreaterThan(0);
  });

  it('yields to other work between calls once a slice is used up', async () => {
    const events: string[] = [];
    const h = heavy(2);
    const done = scoreBatch(new Slicer(5).spec(specWith(h.grader)), rollouts).then(() => events.push(`batch done after ${h.calls()} calls`));
    // Queued after the batch started: without slicing it would run only once all 60 calls (≈120 ms of CPU) ran.
    setImmediate(() => events.push(`other work after ${h.calls()} calls`));
    await done;
    expect(events).toHaveLength(2);
    expect(events[0]).toMatch(/^other work/);
    expect(Number(events[0]!.match(/after (\d+)/)![1])).toBeLessThan(60);
  });

  it('a cheap batch runs synchronously (no yield, no promise per call)', async () => {
    let calls = 0;
    const cheap: Grader = { scope: 'rollout', grade: () => (calls++, 1) };
    let other = false;
    setImmediate(() => (other = true));
    const slicer = new Slicer(1000);
    const out = slicer.spec(specWith(cheap)).graders[0]!;
    expect(out.scope === 'rollout' && out.grade({} as never)).toBe(1);
    await scoreBatch(slicer.spec(specWith(cheap)), rollouts);
    expect(calls).toBe(61);
    expect(other).toBe(false);
  });

  it('once the signal aborts, calls not yet started fail at once naming the reason; started ones finish', async () => {
    const h = heavy(2);
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('scoring did not finish within the 20 ms deadline')), 20);
    const out = await scoreBatch(new Slicer(5, abort.signal).spec(specWith(h.grader)), rollouts);
    expect(h.calls()).toBeLessThan(60);
    const stopped = out.results.filter((r) => r.errors?.some((e) => e.component === 'heavy' && e.message === 'scoring did not finish within the 20 ms deadline'));
    expect(stopped.length).toBe(60 - h.calls());
  });

  it('async graders keep overlapping after the slice (the chain waits for a call to start, not to end)', async () => {
    let running = 0;
    let most = 0;
    const slow: Grader = {
      scope: 'rollout',
      async grade() {
        spin(1);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return 1;
      },
    };
    const out = await scoreBatch(new Slicer(2).spec(specWith(slow)), rollouts);
    expect(out.results.every((r) => r.components.heavy === 1)).toBe(true);
    expect(most).toBeGreaterThan(1);
  });

  it('slices group graders too', async () => {
    let calls = 0;
    const group: Grader = { scope: 'group', gradeGroup: (ss) => (calls++, spin(3), ss.map(() => 1)) };
    const slicer = new Slicer(2);
    const spec = slicer.spec(specWith(group));
    let other = false;
    setImmediate(() => (other = true));
    const first = spec.graders[0]!;
    expect(first.scope).toBe('group');
    const out = await scoreBatch(spec, rollouts);
    expect(calls).toBe(6);
    expect(out.results.every((r) => r.components.heavy === 1)).toBe(true);
    expect(other).toBe(true);
  });
});
