import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resumeCommand, scoredLine } from './score.js';
import { execFileSync } from 'node:child_process';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
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
  it('keeps the token rewards of a rollout without steps (credit.token_rewards: {signal})', () => {
    const input: Rollout = { id: 'x', completion: 'ab', response_length: 2 };
    const scored = { id: 'x', ...fields, token_rewards: [0.1, 1.2] } as unknown as ScoredRollout; // slim: no completion
    expect(JSON.parse(scoredLine(input, JSON.stringify(input), scored))).toEqual({ ...input, ...fields, token_rewards: [0.1, 1.2] });
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

describe('scoredLine writes the fields as JSON.stringify does', () => {
  it('byte for byte, for any numbers and component names (property)', () => {
    const num = fc.oneof(fc.double(), fc.constant(null), fc.constant(-0), fc.constant(1e21), fc.constant(5e-324));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), num), num, fc.option(num, { nil: undefined }), fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }), (components, reward, advantage, details) => {
        const input: Rollout = { id: 'x', completion: 'c' };
        const line = JSON.stringify(input);
        const scored = { id: 'x', reward, components, ...(advantage !== undefined ? { advantage } : {}), ...(details ? { details } : {}) } as unknown as ScoredRollout;
        const fields: Record<string, unknown> = { reward, components };
        if (advantage !== undefined) fields.advantage = advantage;
        if (details) fields.details = details;
        expect(scoredLine(input, line, scored)).toBe(`${line.slice(0, -1)},${JSON.stringify(fields).slice(1)}`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('scoredLine with slim results (as the CLI asks scoreBatch)', () => {
  const spec = compileSpec(
    parseSpec({
      components: [
        { name: 'n', grader: 'numeric' },
        { name: 'f', grader: 'regex', pattern: '<answer>' },
      ],
      combine: { type: 'weighted_sum' },
      advantage: { estimator: 'grpo' },
    }),
  );
  const rollout = fc.record(
    {
      id: fc.string({ minLength: 1 }),
      group: fc.constantFrom('g1', 'g2'),
      completion: fc.oneof(fc.constant('<answer>3</answer>'), fc.string()),
      reference: fc.constantFrom('3', '4'),
      reward: fc.double({ noNaN: true, noDefaultInfinity: true }),
      advantage: fc.constant(0.5),
      details: fc.constant({ old: 1 }),
      errors: fc.constant([]),
      meta: fc.dictionary(fc.string(), fc.jsonValue()),
    },
    { requiredKeys: ['id', 'completion'] },
  );
  it('gives the same line, byte for byte, as the full result (property, with and without old output keys and details)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rollout, { minLength: 1, maxLength: 6 }), fc.boolean(), async (rs, details) => {
        const input = rs.map((r) => JSON.parse(JSON.stringify(r)) as Rollout);
        const lines = input.map((r) => JSON.stringify(r));
        const full = await scoreBatch(spec, input, { details });
        const slim = await scoreBatch(spec, input, { details, slim: true });
        input.forEach((r, i) => expect(scoredLine(r, lines[i]!, slim.results[i]!)).toBe(scoredLine(r, lines[i]!, full.results[i]!)));
        input.forEach((r, i) => expect(JSON.parse(scoredLine(r, lines[i]!, slim.results[i]!))).toEqual(JSON.parse(JSON.stringify(full.results[i]))));
      }),
      { numRuns: 200 },
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
