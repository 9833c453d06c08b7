import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpecFile } from '../src/spec/load.js';
import { compileSpec } from '../src/spec/compile.js';
import { BUILTIN_SAMPLES, probeSpec } from '../src/probe/index.js';
import { EXAMPLES, EXAMPLE_ROLLOUTS, readExampleRollouts } from './examples.js';

/**
 * Issue 11's "done when": `rewardkit probe` on each bundled example spec finds nothing, or the
 * finding is accepted here with the reason. Each spec is probed on the example rollouts it is
 * written for (the built-in samples for the eval specs). Huge-output attempts are 200k characters
 * here (1M in the CLI) to keep the suite quick; the strategies are the same.
 */

const SAMPLES: Record<string, string | null> = { ...EXAMPLE_ROLLOUTS, 'eval/length.yaml': null, 'eval/refusal.yaml': null, 'tamper/guarded.yaml': 'tamper/rollouts.jsonl' };

/**
 * Specs the repository ships outside examples/ (the deployment's spec, the benchmark's spec), with
 * the example rollouts they are written for; paths relative to the repository root.
 */
const SHIPPED: Record<string, string> = {
  'deploy/specs/gsm8k-par.yaml': 'gsm8k_rollouts.jsonl',
  'bench/numeric_regex.yaml': 'gsm8k_rollouts.jsonl',
};

/**
 * Findings accepted on purpose: the eval specs are reward *baselines* for `rewardkit eval` (how
 * biased is a length reward, a refusal regex), not training rewards, so hacking them is their point.
 */
const ACCEPTED: Record<string, { strategies: RegExp; why: string }> = {
  'eval/length.yaml': { strategies: /./, why: 'longer is better by definition: the length-bias baseline of reward-model evaluation' },
  'eval/refusal.yaml': { strategies: /./, why: 'a regex proxy for refusals: any text matching it is a "refusal" by definition' },
  'tamper/guarded.yaml': {
    strategies: /^(echo-prompt|spray-strings)$/,
    why: 'the example task is "say DONE" with the answer in the prompt, so echoing the prompt does the task; the spec shows the tamper gate, whose hostile rollouts are scored in tamper.test.ts',
  },
  'local_model.yaml': {
    strategies: /./,
    why: 'a likelihood reward on a tiny random model (its numbers mean nothing, README): how well any text predicts the reference is noise; the no-answer semantics of `likelihood` are tested in likelihood.test.ts',
  },
};

const readRollouts = readExampleRollouts;

describe('rewardkit probe on the bundled example specs', () => {
  it('lists every bundled spec', () => {
    const specs = [
      ...readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')),
      ...readdirSync(join(EXAMPLES, 'eval')).filter((f) => f.endsWith('.yaml')).map((f) => `eval/${f}`),
      ...readdirSync(join(EXAMPLES, 'tamper')).filter((f) => f.endsWith('.yaml')).map((f) => `tamper/${f}`),
    ].sort();
    expect(specs).toEqual(Object.keys(SAMPLES).sort());
  });

  for (const [specFile, samplesFile] of Object.entries(SAMPLES)) {
    const loaded = loadSpecFile(join(EXAMPLES, specFile));
    const missingModel = Object.values(loaded.spec.backends ?? {}).some((b) => b.type === 'gguf' && !existsSync(resolve(loaded.dir, b.path)));
    if (missingModel) console.log(`skip: probe of ${specFile} needs its GGUF model (npx tsx scripts/make-tiny-gguf.ts examples/tiny.gguf)`);
    it.skipIf(missingModel)(`${specFile}: ${ACCEPTED[specFile] ? `accepted findings only (${ACCEPTED[specFile]!.why})` : 'nothing beats a plain wrong answer'}`, async () => {
      const compiled = compileSpec(loaded.spec, { source: specFile, specDir: loaded.dir });
      try {
        const samples = samplesFile === null ? [...BUILTIN_SAMPLES] : readRollouts(samplesFile);
        const report = await probeSpec(compiled, samples, { hugeChars: 200_000 });
        expect(report.tried).toBeGreaterThan(0);
        const accepted = ACCEPTED[specFile];
        if (accepted) {
          if (specFile !== 'local_model.yaml') expect(report.findings.length, 'an accepted spec still shows its findings').toBeGreaterThan(0);
          for (const f of report.findings) expect(f.strategy).toMatch(accepted.strategies);
        } else {
          expect(report.findings.map((f) => `${f.component}/${f.strategy}: ${f.reward} > ${f.baseline} (${f.example.slice(0, 80)})`)).toEqual([]);
        }
      } finally {
        await compiled.close();
      }
    }, 120_000);
  }
});

describe('rewardkit probe on the other specs the repository ships', () => {
  for (const [specFile, samplesFile] of Object.entries(SHIPPED)) {
    it(`${specFile}: nothing beats a plain wrong answer`, async () => {
      const loaded = loadSpecFile(join(EXAMPLES, '..', specFile));
      const compiled = compileSpec(loaded.spec, { source: specFile, specDir: loaded.dir });
      try {
        const report = await probeSpec(compiled, readRollouts(samplesFile), { hugeChars: 200_000 });
        expect(report.tried).toBeGreaterThan(0);
        expect(report.findings.map((f) => `${f.component}/${f.strategy}: ${f.reward} > ${f.baseline} (${f.example.slice(0, 80)})`)).toEqual([]);
      } finally {
        await compiled.close();
      }
    }, 120_000);
  }
});
