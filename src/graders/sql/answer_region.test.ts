import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sharedData } from '../../../test/shared-data.js';
import { resolverOf } from '../../backends/fake.js';
import { startFakeOpenAIServer, type FakeServer } from '../../backends/testing/openai_server.js';
import { compileSpec } from '../../spec/compile.js';
import { parseSpec } from '../../spec/load.js';
import { buildGrader, gradeAll, scoreOne } from '../harness.js';
import { fencedParts, scriptedJudge } from '../judge/testing.js';
import { sqlGrader } from './index.js';

// Data: Spider's department_store database (see index.test.ts), in ../shared/data/text2sql/.
const dbFile = sharedData('text2sql/database/department_store/department_store.sqlite');
const databases = dbFile === null ? '' : dirname(dirname(dbFile));
const ref = { sql: 'SELECT product_name FROM products WHERE product_price > 500', db: 'department_store' };
/** Reasoning-SQL's format with plain SQL (no fence) in <answer> — the case (1.045 before answer regions). */
const plain = (sql: string) => `<reasoning>\nprices over 500\n</reasoning>\n<answer>\n${sql}\n</answer>\n`;

describe('sql: the answer region', () => {
  it('reads SQL from the ngram and schema modes in <answer> without a database', async () => {
    const [r] = await gradeAll(buildGrader(sqlGrader, { mode: 'ngram' }), [{ completion: plain(ref.sql), reference: ref }]);
    expect(r).toMatchObject({ score: 1, details: { region: 'answer_tag', sql: ref.sql } });
    const [miss] = await gradeAll(buildGrader(sqlGrader, { mode: 'ngram' }), [{ completion: '<answer>\nSELECT', reference: ref }]);
    expect(miss).toMatchObject({ score: 0, details: { region: 'auto', sql: '' } });
  });
});

describe.skipIf(dbFile === null)('sql on Spider: plain SQL in <answer>, judge fallback', () => {
  it('reasoning_sql gives 6.5 for plain SQL in <answer>, as for a fenced block', async () => {
    const rs = buildGrader(sqlGrader, { mode: 'reasoning_sql', databases });
    const [r] = await gradeAll(rs, [{ completion: plain(ref.sql), reference: ref }]);
    expect(r!.score).toBe(6.5);
    expect(r!.details).toMatchObject({ region: 'answer_tag', execution: 1, syntax: 1, schema_linking: 1, ngram: 1, format: 0.5 });
    // The whole text would run nothing: the old reading gave 1.045 here.
    expect(await scoreOne(buildGrader(sqlGrader, { mode: 'reasoning_sql', databases, answer: 'whole' }), plain(ref.sql), ref)).toBeLessThan(2);
  });

  it('execution: right > wrong ≥ no answer for SQL in <answer>', async () => {
    const ex = buildGrader(sqlGrader, { databases });
    const out = await gradeAll(ex, [
      { completion: `<think>hm</think><answer>${ref.sql}</answer>`, reference: ref },
      { completion: '<think>hm</think><answer>SELECT product_name FROM products</answer>', reference: ref },
      { completion: `<think>${ref.sql}</think>`, reference: ref },
      { completion: `<answer>${ref.sql}`, reference: ref },
    ]);
    expect(out.map((o) => o.score)).toEqual([1, 0, 0, 0]);
    expect(out[2]!.details).toMatchObject({ region: 'auto', reason: expect.stringMatching(/no answer/) });
  });

  it('fallback judge: a failed SELECT earns rating / 3 of the execution term; a match or no SELECT never asks', async () => {
    const j = scriptedJudge(() => '{"score": 1.2}');
    const rs = sqlGrader.create(
      z.strictObject(sqlGrader.params).parse({ mode: 'reasoning_sql', databases, fallback_judge: { backend: 'judge' } }),
      { specDir: process.cwd(), name: 'rs', backends: resolverOf([j.backend]) },
    );
    const wrongSql = 'SELECT product_name FROM products WHERE product_price >= 900';
    const [wrong, right, none] = await gradeAll(rs, [
      { prompt: 'Products over 500?', completion: plain(wrongSql), reference: ref },
      { completion: plain(ref.sql), reference: ref },
      { completion: plain('no query here'), reference: ref },
    ]);
    // The paper's code: EX slot = judge rating 1.2 (instead of 3.0 for a match).
    expect(wrong!.details).toMatchObject({ judge: 1.2, status: 'mismatch', syntax: 1, schema_linking: 1, format: 0.5 });
    expect(wrong!.score).toBeCloseTo(1.2 + 1 + 1 + (wrong!.details!.ngram as number) + 0.5, 12);
    expect(right!.score).toBe(6.5);
    expect(none!.score).toBe(0.5);
    expect(j.requests).toHaveLength(1);
    const parts = fencedParts(j.requests[0]!);
    expect(parts.get('gold_sql')).toBe(ref.sql);
    expect(parts.get('predicted_sql')).toBe(wrongSql);
    expect(parts.get('question')).toBe('Products over 500?');
  });

  it('fallback judge failure is an error, never a score; a judge cannot pay more than 2/3 of a match', async () => {
    const bad = scriptedJudge(() => 'I would say about 1.5');
    const build = (backend: ReturnType<typeof scriptedJudge>['backend'], extra: Record<string, unknown> = {}) =>
      sqlGrader.create(z.strictObject(sqlGrader.params).parse({ databases, fallback_judge: { backend: 'judge', parse_retries: 1, ...extra } }), {
        specDir: process.cwd(),
        name: 'ex',
        backends: resolverOf([backend]),
      });
    await expect(gradeAll(build(bad.backend), [{ completion: plain('SELECT product_id FROM products'), reference: ref }])).rejects.toThrow(/no usable answer/);
    expect(bad.requests).toHaveLength(2);
    const over = scriptedJudge(() => '{"score": 7}');
    await expect(gradeAll(build(over.backend), [{ completion: plain('SELECT product_id FROM products'), reference: ref }])).rejects.toThrow(/no usable answer/);
    const max = scriptedJudge(() => '{"score": 2}');
    expect(await scoreOne(build(max.backend), plain('SELECT product_id FROM products'), ref)).toBeCloseTo(2 / 3, 12);
    // A refused statement gets no judge.
    expect(await scoreOne(build(max.backend), plain('DELETE FROM products'), ref)).toBe(0);
    expect(max.requests).toHaveLength(1);
  });

  describe('through a spec and the fake OpenAI server', () => {
    let server: FakeServer;
    beforeAll(async () => {
      server = await startFakeOpenAIServer();
      server.handle('chat', () => ({
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'fake',
        choices: [{ index: 0, message: { role: 'assistant', content: '{"score": 1.5}' }, finish_reason: 'stop' }],
      }));
    });
    afterAll(async () => server.close());

    it('reasoning_sql with fallback_judge and a spec-level answer region', async () => {
      const spec = parseSpec({
        answer: { tag: 'sql' },
        backends: { judge: { type: 'openai', base_url: server.baseURL, model: 'fake', cache: false } },
        components: [{ name: 'rs', grader: 'sql', mode: 'reasoning_sql', databases, fallback_judge: { backend: 'judge' } }],
      });
      const compiled = compileSpec(spec, { specDir: process.cwd() });
      try {
        const [wrong] = await gradeAll(compiled.graders[0]!, [{ completion: '<sql>SELECT product_name FROM products</sql>', reference: ref }]);
        expect(wrong!.details).toMatchObject({ region: 'tag:sql', judge: 1.5, status: 'mismatch' });
        expect(server.counts.chat).toBe(1);
        const [right] = await gradeAll(compiled.graders[0]!, [{ completion: `<sql>${ref.sql}</sql>`, reference: ref }]);
        expect(right!.details).toMatchObject({ region: 'tag:sql', execution: 1 });
        expect(server.counts.chat).toBe(1);
      } finally {
        await compiled.close();
      }
    });

    it('names the field when the judge backend is not declared', () => {
      const spec = parseSpec({ components: [{ name: 'rs', grader: 'sql', mode: 'reasoning_sql', databases, fallback_judge: { backend: 'judge' } }] });
      expect(() => compileSpec(spec, { specDir: process.cwd() })).toThrow(/fallback_judge\.backend/);
      const ngram = parseSpec({ components: [{ name: 'n', grader: 'sql', mode: 'ngram', fallback_judge: { backend: 'judge' } }] });
      expect(() => compileSpec(ngram, { specDir: process.cwd() })).toThrow(/fallback_judge/);
    });
  });
});
