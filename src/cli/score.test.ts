import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resumeCommand, scoredLine } from './score.js';
import { execFileSync } from 'node:child_process';
import type { Rollout, ScoredRollout } from '../rollout/types.js';

const fields = { reward: 0.5, components: { a: 1, b: null }, advantage: -0.25 };

describe('scoredLine', () => {
  it('appends the output fields to the input line, keeping its text', () => {
    const input: Rollout = { id: 'x', completion: 'he said "hi"\n', meta: { k: [1, 2] } };
    const line = '{"id":"x",  "completion":"he said \\"hi\\"\\n","meta":{"k":[1,2]}}  ';
    const out = scoredLine(input, line, { ...input, ...fields } as ScoredRollout);
    expect(out).toBe('{"id":"x",  "completion":"he said \\"hi\\"\\n","meta":{"k":[1,2]},"reward":0.5,"components":{"a":1,"b":null},"advantage":-0.25}');
  });
  it('serialises a re-scored rollout whole, so no key appears twice', () => {
    const input = { id: 'x', completion: 'c', reward: 9, components: { old: 1 } } as Rollout;
    const out = scoredLine(input, JSON.stringify(input), { ...input, ...fields } as ScoredRollout);
    expect(out).toBe(JSON.stringify({ ...input, ...fields }));
    expect(out.match(/"reward"/g)).toHaveLength(1);
  });
  it('parses to input + fields for any rollout (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ id: fc.string({ minLength: 1 }), completion: fc.string(), reference: fc.option(fc.jsonValue(), { nil: undefined }) }, { requiredKeys: ['id', 'completion'] }),
        fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
        (r, reward) => {
          const input = JSON.parse(JSON.stringify(r)) as Rollout;
          const scored = { ...input, reward, components: { c: reward } } as ScoredRollout;
          expect(JSON.parse(scoredLine(input, JSON.stringify(input), scored))).toEqual(JSON.parse(JSON.stringify(scored)));
        },
      ),
    );
  });
});

describe('resumeCommand', () => {
  it('repeats the options with --resume, quoted so a shell gives back the same words', () => {
    const o = { spec: 's.yaml', in: "my rollouts/it's.jsonl", out: 'o $HOME.jsonl.gz', batchSize: 64, details: true, progressInterval: 0 };
    const cmd = resumeCommand(o);
    expect(cmd).toBe(`rewardkit score --spec s.yaml --in 'my rollouts/it'\\''s.jsonl' --out 'o $HOME.jsonl.gz' --details --batch-size 64 --progress-interval 0 --resume`);
    const words = execFileSync('/bin/sh', ['-c', `for w in ${cmd.slice('rewardkit '.length)}; do printf '%s\\n' "$w"; done`], { encoding: 'utf8' });
    expect(words.trim().split('\n')).toEqual(['score', '--spec', 's.yaml', '--in', "my rollouts/it's.jsonl", '--out', 'o $HOME.jsonl.gz', '--details', '--batch-size', '64', '--progress-interval', '0', '--resume']);
  });
});
