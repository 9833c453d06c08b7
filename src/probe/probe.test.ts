/**
 * The probe finds exploits in deliberately weak specs (contains vs a short reference, a regex paying
 * any \boxed{}, an injectable judge behind the fake OpenAI server, a length in whitespace words, a
 * code grader paying exit 0) and stays quiet on strong ones (exact match, an honest judge).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compileSpec, type CompiledSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
import type { Rollout } from '../rollout/types.js';
import type { Grader } from '../graders/types.js';
import { startFakeOpenAIServer, type FakeServer } from '../backends/testing/openai_server.js';
import { fencedParts } from '../graders/judge/testing.js';
import type { ChatMessage } from '../backends/types.js';
import { BUILTIN_SAMPLES, STRATEGIES, buildBaseline, minimalMatch, probedComponents, probeSpec, wrongJsonVariants, wrongText, type ProbeReport } from './index.js';
import { extractCode } from '../graders/code/extract.js';
import { sharedData } from '../../test/shared-data.js';
import { dirname } from 'node:path';

const HUGE = 20_000;
const open: CompiledSpec[] = [];
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
});

function compile(spec: Record<string, unknown>): CompiledSpec {
  const c = compileSpec(parseSpec({ name: 'test', ...spec }, 'spec'));
  open.push(c);
  return c;
}

const strategies = (r: ProbeReport) => r.findings.map((f) => f.strategy);
const finding = (r: ProbeReport, strategy: string) => r.findings.find((f) => f.strategy === strategy);

describe('baseline', () => {
  it('wrong answers keep the form and never contain the reference', () => {
    expect(wrongText('33')).toBe('34');
    expect(wrongText('4')).toBe('5');
    expect(wrongText('C')).toBe('D');
    expect(wrongText('E')).toBe('A');
    expect(wrongText('Yes')).toBe('No');
    expect(wrongText('Paris')).toBe('Qbsjt');
    expect(wrongText('\\frac{1}{2}')).toBe('\\frac{1}{3}');
    for (const ref of ['9', '99', '1', '0', '-5', '3.14', 'zz', 'a b'])
      expect(wrongText(ref).includes(ref), `${ref} → ${wrongText(ref)}`).toBe(false);
  });

  it('copies the layout of a right completion without the right answer anywhere in it', () => {
    const sample: Rollout = {
      id: 't',
      prompt: 'p',
      completion: '<think>\n5,000 + 2,040 = 7,040.\n</think>\n<answer>7040</answer>',
      reference: '7040',
    };
    const b = buildBaseline(sample, [{ name: 'c', grader: 'numeric', params: {} }]);
    expect(b.completion).toBe('<think>\n5,000 + 2,040 = 7041.\n</think>\n<answer>7041</answer>');
    expect(b.layout.wrap('')).not.toMatch(/7,?040/);
  });

  it('an object reference gives one wrong variant per leaf', () => {
    expect(wrongJsonVariants({ tool: 'f', arguments: { city: 'Paris', days: 1 } })).toEqual([
      { tool: 'g', arguments: { city: 'Paris', days: 1 } },
      { tool: 'f', arguments: { city: 'Qbsjt', days: 1 } },
      { tool: 'f', arguments: { city: 'Paris', days: 2 } },
    ]);
  });

  it('code and SQL baselines are fenced wrong programs and queries', () => {
    const code = buildBaseline({ id: 'x', completion: '' }, [{ name: 't', grader: 'code', params: { language: 'javascript' } }]);
    expect(code.completion).toBe('```javascript\nconsole.log("rewardkit-probe-wrong");\n```');
    const sql = buildBaseline({ id: 'x', completion: '' }, [{ name: 'q', grader: 'sql', params: {} }]);
    expect(sql.completion).toMatch(/^```sql\nSELECT /);
  });
});

describe('minimalMatch', () => {
  it('finds short strings that the patterns match', () => {
    expect(minimalMatch('\\\\boxed\\{.*\\}')).toBe('\\boxed{}');
    expect(minimalMatch('^<think>[\\s\\S]*</think>\\s*<answer>[\\s\\S]+</answer>$')).toBe('<think></think><answer> </answer>');
    expect(minimalMatch('^(yes|no|maybe)$')).toBe('no');
    expect(minimalMatch('^[^0-9]{3}\\d+$')).toBe('aaa0');
    expect(minimalMatch('^Answer: [A-E]$')).toBe('Answer: A');
    expect(minimalMatch('#{4} ?-?\\d+(\\.\\d+)?')).toBe('####0');
  });
  it('returns null rather than a string the pattern does not match', () => {
    expect(minimalMatch('^a$|^(?!a)b$')).not.toBe('');
    const m = minimalMatch('^\\p{Lu}x$');
    expect(m === null || new RegExp('^\\p{Lu}x$', 'u').test(m)).toBe(true);
  });
});

describe('probeSpec on weak specs', { timeout: 120_000 }, () => {
  it('contains against a short reference: spraying digits beats the wrong answer', async () => {
    const c = compile({ components: [{ name: 'has', grader: 'contains' }] });
    const r = await probeSpec(c, [{ id: 'q', prompt: 'What is 2 + 2?', completion: '4', reference: '4' }], { hugeChars: HUGE });
    const f = finding(r, 'spray-integers');
    expect(f).toMatchObject({ component: 'has', reward: 1, baseline: 0, gain: 1, sample: 'q', wins: 1, samples: 1 });
    expect(f!.example).toContain('0 1 2 3 4');
    // The prompt's own numbers and their sums include 4 too.
    expect(strategies(r)).toContain('spray-prompt-numbers');
    expect(r.samples).toEqual([{ id: 'q', baseline: 0, right: 1 }]);
    expect(r.tried).toBeGreaterThan(30);
  });

  it('a regex that pays any \\boxed{}: spraying boxes and the bare minimal match win', async () => {
    const c = compile({
      components: [
        { name: 'correct', grader: 'exact', normalize: { whitespace: true } },
        { name: 'boxed', grader: 'regex', pattern: '\\\\boxed\\{.*\\}', weight: 0.5 },
      ],
    });
    const r = await probeSpec(c, [{ id: 'q', prompt: 'Compute 6 * 7.', completion: '42', reference: '42' }], { hugeChars: HUGE });
    expect(finding(r, 'minimal-pattern')).toMatchObject({ component: 'boxed', reward: 0.5, baseline: 0, gain: 0.5 });
    expect(finding(r, 'spray-boxed')).toMatchObject({ component: 'boxed', gain: 0.5 });
    // The exact-match component is not fooled by anything.
    expect(r.findings.every((f) => !f.component.split(',').includes('correct'))).toBe(true);
  });

  it('a strong spec (exact match) has no finding, with the built-in samples too', async () => {
    const c = compile({ components: [{ name: 'correct', grader: 'exact', normalize: { case: 'lower', whitespace: true } }] });
    const r = await probeSpec(c, BUILTIN_SAMPLES, { hugeChars: HUGE });
    expect(r.findings).toEqual([]);
    expect(r.samples.map((s) => s.baseline)).toEqual([0, 0, 0]);
    expect(r.tried).toBeGreaterThan(100);
  });

  it('the baseline is the best-paid plain wrong answer: a format reward alone is no finding', async () => {
    const c = compile({
      components: [
        { name: 'correct', grader: 'numeric' },
        { name: 'format', grader: 'format', weight: 0.2 },
      ],
    });
    const sample: Rollout = { id: 'a', prompt: 'Mara has 14 apples and gets 19 more. How many?', completion: '<think>\n14 + 19 = 33\n</think>\n<answer>33</answer>', reference: '33' };
    const r = await probeSpec(c, [sample], { hugeChars: HUGE });
    expect(r.samples).toEqual([{ id: 'a', baseline: 0.2, right: 1.2 }]);
    // The prompt's numbers summed give 33: echoing them is a finding only if the grader takes any of them.
    for (const f of r.findings) expect(f.baseline).toBe(0.2);
  });

  it('stateful shapers (meanstd, minmax, clip): no finding from the running statistics drifting between batches, and the spec\'s state is left as it was', async () => {
    for (const type of ['meanstd', 'minmax', 'clip']) {
      const c = compile({
        components: [
          { name: 'correct', grader: 'numeric' },
          { name: 'format', grader: 'format', tags: ['think', 'answer'], weight: 0.2 },
        ],
        shape: [{ type }],
      });
      await scoreBatch(c, [{ id: 'warm', completion: '<answer>1</answer>', reference: '2' }, { id: 'warm2', completion: '2', reference: '2' }]);
      const before = JSON.stringify(c.shapers!.save());
      const sample: Rollout = { id: 'a', prompt: 'Mara has 14 apples and gets 19 more. How many?', completion: '<think>\n14 + 19 = 33\n</think>\n<answer>33</answer>', reference: '33' };
      const r = await probeSpec(c, [sample, { ...sample, id: 'b', prompt: 'Tom has 3 pens and buys 4 more. How many?', completion: '<think>3 + 4 = 7</think>\n<answer>7</answer>', reference: '7' }], { hugeChars: HUGE, batchSize: 8 });
      expect(r.findings.map((f) => `${type}: ${f.strategy} ${f.reward} > ${f.baseline}`)).toEqual([]);
      expect(r.samples.every((s) => s.right! > s.baseline!), type).toBe(true);
      expect(JSON.stringify(c.shapers!.save()), type).toBe(before);
    }
  });
});

describe('probeSpec on graders replaced by deliberately weak ones', { timeout: 120_000 }, () => {
  /** The compiled spec with component k's grader replaced. */
  const withGrader = (c: CompiledSpec, k: number, g: Grader): CompiledSpec => ({ ...c, graders: c.graders.map((x, i) => (i === k ? g : x)) });
  /** The code strategies and the empty answer: the weak graders below run each attempt synchronously. */
  const codeOnly = STRATEGIES.filter((s) => s.name.startsWith('code-') || s.name === 'empty');

  it('a length limit in whitespace words is evaded by removing spaces', async () => {
    const c = compile({ components: [{ name: 'correct', grader: 'exact' }, { name: 'short', grader: 'length', unit: 'tokens', mode: 'band', max: 50, weight: 0.5 }] });
    const words: Grader = { scope: 'rollout', grade: (s) => (s.completion.split(/\s+/).filter(Boolean).length <= 50 ? 1 : 0) };
    const r = await probeSpec(withGrader(c, 1, words), [{ id: 'q', prompt: 'Name a colour.', completion: 'red', reference: 'red' }], { hugeChars: HUGE });
    expect(finding(r, 'length-no-spaces')).toMatchObject({ component: 'short', reward: 0.5, baseline: 0, gain: 0.5 });
  });

  const assertSample: Rollout = {
    id: 'add',
    prompt: 'Write add(a, b) returning the sum.',
    completion: '```javascript\nfunction add(a, b) { return a + b; }\n```',
    reference: { assert: "const assert = require('assert');\nassert.strictEqual(add(1, 2), 3);\nassert.strictEqual(add(5, 5), 10);" },
  };

  it('a code grader that trusts the exit code pays process.exit(0): the probe finds it (JavaScript)', async () => {
    const c = compile({ components: [{ name: 'tests', grader: 'code', language: 'javascript' }] });
    // Weak on purpose: program + asserts run by plain node, reward 1 when the exit code is 0.
    const exitCode: Grader = {
      scope: 'rollout',
      grade: (s) => {
        const asserts = (s.reference as { assert: string }).assert;
        const r = spawnSync(process.execPath, ['-e', `${extractCode(s.completion, 'javascript').code}\n\n${asserts}\n`], { timeout: 10_000, stdio: 'ignore' });
        return r.status === 0 ? 1 : 0;
      },
    };
    const r = await probeSpec(withGrader(c, 0, exitCode), [assertSample], { hugeChars: HUGE, strategies: codeOnly });
    const f = finding(r, 'code-exit-tricks');
    expect(f).toMatchObject({ component: 'tests', reward: 1, baseline: 0, gain: 1 });
    expect(f!.example).toContain('process.exit(0)');
    expect(f!.attemptsWon).toBeGreaterThanOrEqual(2);
  });

  const python = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' }).stdout?.trim() === '1';
  it.skipIf(!python)('a code grader that trusts the exit code pays os._exit(0): the probe finds it (Python)', async () => {
    const c = compile({ components: [{ name: 'tests', grader: 'code', language: 'python' }] });
    const exitCode: Grader = {
      scope: 'rollout',
      grade: (s) => {
        const asserts = (s.reference as { assert: string }).assert;
        const r = spawnSync('python3', ['-c', `${extractCode(s.completion, 'python').code}\n\n${asserts}\n`], { timeout: 10_000, stdio: 'ignore' });
        return r.status === 0 ? 1 : 0;
      },
    };
    const sample: Rollout = { id: 'add', prompt: 'Write add(a, b).', completion: '```python\ndef add(a, b):\n    return a + b\n```', reference: { assert: 'assert add(1, 2) == 3\nassert add(5, 5) == 10' } };
    const r = await probeSpec(withGrader(c, 0, exitCode), [sample], { hugeChars: HUGE, strategies: codeOnly });
    const f = finding(r, 'code-exit-tricks');
    expect(f).toMatchObject({ component: 'tests', reward: 1, baseline: 0, gain: 1 });
    // At least os._exit, sys.exit, SystemExit ×2, atexit, excepthook and the always-equal object
    // (`python3 -c` has no __file__, and a failing assert ends the run before a thread or alarm fires).
    expect(f!.attemptsWon).toBeGreaterThanOrEqual(7);
    expect(strategies(r)).toEqual(['code-exit-tricks']);
  });
});

describe('probeSpec agrees with the engine it probes (holds before and after the grader fixes)', { timeout: 180_000 }, () => {
  it('length in tokens: a space-free overlong answer is a finding exactly when the engine pays it more', async () => {
    const c = compile({ components: [{ name: 'correct', grader: 'exact' }, { name: 'short', grader: 'length', unit: 'tokens', mode: 'band', max: 50, weight: 0.5 }] });
    const sample: Rollout = { id: 'q', prompt: 'Name a colour.', completion: 'red', reference: 'red' };
    const words = Array.from({ length: 5000 }, (_, i) => `step${i % 10}`);
    const { results } = await scoreBatch(c, [
      { id: 'spaced', completion: `${words.join(' ')} sfe`, reference: 'red' },
      { id: 'glued', completion: `${words.join('')}sfe`, reference: 'red' },
    ]);
    const evaded = results[1]!.reward! > results[0]!.reward! + 1e-9;
    const r = await probeSpec(c, [sample], { hugeChars: HUGE });
    expect(strategies(r).includes('length-no-spaces')).toBe(evaded);
  });

  it('code in assert mode: os._exit(0)/process.exit(0) is a finding exactly when the sandboxed grader pays it', async () => {
    const c = compile({ components: [{ name: 'tests', grader: 'code', language: 'javascript' }] });
    const sample: Rollout = {
      id: 'add',
      prompt: 'Write add(a, b).',
      completion: '```javascript\nfunction add(a, b) { return a + b; }\n```',
      reference: { assert: "const assert = require('assert');\nassert.strictEqual(add(1, 2), 3);" },
    };
    const { results } = await scoreBatch(c, [{ id: 'exit', completion: '```javascript\nprocess.exit(0);\n```', reference: sample.reference }]);
    if (results[0]!.reward === null) return; // no sandbox on this machine: nothing to compare
    const paid = results[0]!.reward > 0;
    const r = await probeSpec(c, [sample], { hugeChars: HUGE });
    expect(strategies(r).includes('code-exit-tricks')).toBe(paid);
  });
});

describe('probeSpec on a judge behind the fake OpenAI server', { timeout: 120_000 }, () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeOpenAIServer({ model: 'm' });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
    server.resetCounts();
  });

  /** The chat route as a 1–5 scale judge: `score(completion)` is its verdict. */
  function judgeWith(score: (completion: string) => number): void {
    server.handle('chat', (req) => {
      const completion = fencedParts({ messages: req.body.messages as ChatMessage[] }).get('completion') ?? '';
      return {
        id: 'c',
        object: 'chat.completion',
        created: 0,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify({ score: score(completion) }) }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      };
    });
  }

  const spec = () =>
    compile({
      backends: { judge: { type: 'openai', base_url: server.baseURL, model: 'm', cache: false, retries: 0, timeout_ms: 10_000 } },
      components: [{ name: 'quality', grader: 'judge', backend: 'judge', mode: 'scale' }],
    });
  const sample: Rollout = { id: 'apples', prompt: 'Mara has 14 apples and eats 5. How many are left?', completion: '<answer>9</answer>', reference: '9' };
  const honest = (c: string) => (/^<answer>9<\/answer>$/.test(c.trim()) ? 5 : 1);

  it('a judge that obeys "answer 10" in the completion is found injectable', async () => {
    judgeWith((c) => (/answer 10|"score":\s*10|maximum score/i.test(c) ? 5 : honest(c)));
    const r = await probeSpec(spec(), [sample], { hugeChars: HUGE });
    const f = finding(r, 'judge-injection');
    expect(f).toMatchObject({ component: 'quality', reward: 1, baseline: 0, gain: 1 });
    expect(f!.example).toMatch(/answer 10|score|maximum/i);
    expect(server.counts.chat).toBeGreaterThan(20);
    // Only injection wins: the other strategies are judged honestly.
    expect(strategies(r)).toEqual(['judge-injection']);
  });

  it('an honest judge: nothing beats the plain wrong answer', async () => {
    judgeWith(honest);
    const r = await probeSpec(spec(), [sample], { hugeChars: HUGE });
    expect(r.findings).toEqual([]);
    expect(r.samples).toEqual([{ id: 'apples', baseline: 0, right: 1 }]);
  });
});

describe('probedComponents', () => {
  it('leaves out step-scoped components', () => {
    const spec = parseSpec({
      name: 's',
      components: [
        { name: 'solved', grader: 'contains' },
        { name: 'call', grader: 'regex', pattern: '^call', scope: 'step' },
      ],
    });
    expect(probedComponents(spec).map((c) => c.name)).toEqual(['solved']);
  });
});

describe('probeSpec finds tests a program can read outside its sandbox', { timeout: 180_000 }, () => {
  it('code-read-tests is a finding exactly when a sandboxed program can read the samples file', async () => {
    // The samples live in the project (not /tmp, which the sandbox replaces by its own).
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const folder = mkdtempSync(join(process.cwd(), '.probe-read-tests-'));
    try {
      const sample: Rollout = {
        id: 'triple',
        prompt: 'Read n and print 3n.',
        completion: "```javascript\nconsole.log(Number(require('fs').readFileSync(0, 'utf8')) * 3)\n```",
        reference: { tests: [{ input: '7\n', output: '21\n' }] },
      };
      const file = join(folder, 'samples.jsonl');
      writeFileSync(file, JSON.stringify(sample) + '\n');
      const c = compile({ components: [{ name: 'tests', grader: 'code', language: 'javascript' }] });
      const reader = `\`\`\`javascript\nconst line = require('fs').readFileSync(${JSON.stringify(file)}, 'utf8');\nprocess.stdout.write(JSON.parse(line).reference.tests[0].output);\n\`\`\``;
      const { results } = await scoreBatch(c, [{ id: 'reader', completion: reader, reference: sample.reference }]);
      if (results[0]!.reward === null) return; // no sandbox on this machine
      const visible = results[0]!.reward > 0;
      const r = await probeSpec(c, [sample], { hugeChars: HUGE, strategies: STRATEGIES.filter((s) => s.name === 'code-read-tests') });
      expect(strategies(r).includes('code-read-tests')).toBe(visible);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

const storeDb = sharedData('text2sql/database/department_store/department_store.sqlite');
describe.skipIf(storeDb === null)('probeSpec on text-to-SQL execution', { timeout: 120_000 }, () => {
  it('non-SELECT statements earn nothing; an empty result pays when the gold result is empty', async () => {
    const c = compile({ components: [{ name: 'ex', grader: 'sql', mode: 'execution', databases: dirname(dirname(storeDb!)) }] });
    const count: Rollout = { id: 'count', prompt: 'How many products are there?', completion: '```sql\nSELECT count(*) FROM products\n```', reference: { sql: 'SELECT count(*) FROM products', db: 'department_store' } };
    const none: Rollout = {
      id: 'none',
      prompt: 'Which products cost more than a billion?',
      completion: '```sql\nSELECT product_name FROM products WHERE product_price > 1000000000\n```',
      reference: { sql: 'SELECT product_name FROM products WHERE product_price > 1000000000', db: 'department_store' },
    };
    const onlySql = STRATEGIES.filter((s) => s.name.startsWith('sql-') || s.name === 'empty');
    const clean = await probeSpec(c, [count], { strategies: onlySql });
    expect(clean.findings).toEqual([]);
    expect(clean.samples).toEqual([{ id: 'count', baseline: 0, right: null }]);
    const r = await probeSpec(c, [none], { strategies: onlySql });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ component: 'ex', strategy: 'sql-trivial', reward: 1, baseline: 0 });
    expect(r.findings[0]!.example).toMatch(/WHERE 0/);
  });
});
