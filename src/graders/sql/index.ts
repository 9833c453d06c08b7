import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { defineGrader, ParamError, type Graded } from '../types.js';
import { resultsMatch, type CompareOptions } from './compare.js';
import { sharedExecutor, type ExecResult } from './executor.js';
import { extractSql, firstKeyword, hasTopLevelOrderBy, READ_KEYWORDS, spiderPostprocess } from './lex.js';
import { resolveDatabase } from './paths.js';
import { REASONING_SQL_WEIGHTS, xmlCount, type ReasoningSqlWeights } from './reasoning_sql.js';
import { ngramSimilarity, schemaLinking } from './schema.js';
import { answerParam, answerRegion, resolveAnswerRegion } from '../answer.js';
import { buildSqlJudge, EXECUTION_MATCH, fallbackJudgeSchema, type SqlJudge } from './judge_fallback.js';

const MODES = ['execution', 'syntax', 'schema_linking', 'ngram', 'reasoning_sql'] as const;
const NEEDS_DATABASE = new Set<string>(['execution', 'syntax', 'reasoning_sql']);

/** The gold query and database of a rollout: `reference: {sql, db}` (or `query`/`gold_sql`, `db_id`), or `reference: "<sql>"` with `meta.db`. */
function readReference(reference: unknown, meta: Readonly<Record<string, unknown>>): { sql: string; db: unknown } | null {
  if (reference === undefined || reference === null) return null;
  const fromMeta = meta.db ?? meta.db_id;
  if (typeof reference === 'string') return { sql: reference, db: fromMeta };
  if (typeof reference === 'object' && !Array.isArray(reference)) {
    const r = reference as Record<string, unknown>;
    const sql = r.sql ?? r.query ?? r.gold_sql;
    if (typeof sql !== 'string') throw new Error('reference: expected {sql: "<gold SQL>", db: "<database>"}');
    return { sql, db: r.db ?? r.db_id ?? fromMeta };
  }
  throw new Error('reference: expected {sql: "<gold SQL>", db: "<database>"} or the gold SQL text');
}

const hasSelect = (sql: string) => /\bselect\b/i.test(sql);

/**
 * `sql` — text-to-SQL rewards: runs the completion's SQL and the gold SQL on a SQLite database and
 * compares, or compares the queries' text and schema use.
 *
 * The SQL is read in the completion's answer region (`answer:`, default `auto`: the last
 * `<answer>…</answer>`, else the text after the reasoning), as its last fenced code block, else the
 * whole region — so plain SQL inside `<answer>` runs; the gold is the
 * rollout's `reference: {sql, db}` (or a SQL string with `meta.db`). Databases live in `databases`
 * (relative to the spec) laid out as Spider: `<databases>/<db>/<db>.sqlite`; the name must be a plain
 * folder name and the file must resolve inside the folder. Both queries get Spider's clean-up
 * (`! =` → `!=` …). Databases are opened read-only; only one SELECT/WITH statement runs (anything else,
 * ATTACH and PRAGMA included, is refused); each query runs in a separate process killed at
 * `timeout_ms`. Like Python's sqlite3 (Spider, BIRD), `"x"` is read as a string when no column x
 * exists. Results and open databases are cached per process.
 *
 * Modes:
 * - `execution` (default): 1 when the results match — rows as a multiset (`rows: set` for BIRD's set
 *   semantics), in order only when the gold has a top-level ORDER BY, columns in any order (Spider
 *   test suite; `columns: ordered` to require the gold's order); two empty results match. 0 otherwise,
 *   with the reason (error, refused, timeout, mismatch) in details.
 * - `syntax`: 1 when the query runs (its first row is fetched without error within the limit).
 * - `schema_linking`: tables ∪ columns the query references (node-sql-parser), `schema_metric:
 *   recall` |S_gold ∩ S_pred| / |S_gold| (Reasoning-SQL's code) or `jaccard`. No database needed.
 * - `ngram`: Jaccard of word n-gram sets (`ngram_n`, default 2) of the normalised queries, aliases
 *   removed (Reasoning-SQL's `jaccard_similarity`). No database needed.
 * - `reasoning_sql`: Reasoning-SQL's sum (Pourreza et al. 2025, "Reasoning-SQL: Reinforcement
 *   Learning with SQL Tailored Partial Rewards", arXiv 2503.23157; first author's code RLForSQL):
 *   `weights.execution·EX + weights.syntax·syntax + weights.schema_linking·schema + weights.ngram·ngram
 *   + weights.format·xml_count`, defaults 3, 1, 1, 1, 1 (max 6.5). EX and schema are 0 without a
 *   SELECT; the format term reads the whole completion.
 *
 * `fallback_judge: {backend: NAME}` (modes `execution` and `reasoning_sql`) adds the paper's AI
 * feedback: when a predicted SELECT runs but does not match, fails or times out, a judge rates it
 * 0–2 against the gold and the execution term becomes rating / 3 (the paper's code: 3.0 for a match,
 * else the 0–2 rating in the same slot). A refused statement or no SQL gets no judge. The judge's
 * failure (backend down, no usable answer after its re-asks) is an error, never a score.
 *
 * Null rule: no reference → `null`; no SQL, a missing region, SQL that fails, is refused or times out
 * → 0 (wrong). A gold query that fails or a missing database is an error.
 *
 * @example
 * # spec
 * - {name: ex, grader: sql, mode: execution, databases: spider/database}
 * # rollout {"completion": "```sql\nSELECT count(*) FROM products\n```",
 * #          "reference": {"sql": "SELECT COUNT(product_id) FROM Products", "db": "department_store"}} → 1
 */
export const sqlGrader = defineGrader({
  kind: 'sql',
  summary: 'Text-to-SQL: execution accuracy on SQLite (read-only, time-limited), syntax, schema linking, n-grams, Reasoning-SQL sum.',
  params: {
    mode: z
      .enum(MODES)
      .default('execution')
      .describe('execution (1/0 result match; default) | syntax (runs, 1/0) | schema_linking | ngram | reasoning_sql (weighted sum).'),
    databases: z
      .string()
      .min(1)
      .optional()
      .describe('Folder of SQLite databases laid out as Spider (<folder>/<db>/<db>.sqlite), relative to the spec. Required by execution, syntax and reasoning_sql.'),
    timeout_ms: z.number().int().min(1).max(600_000).default(5000).describe('Wall-clock limit per query in milliseconds; the query process is killed when it passes (default 5000).'),
    max_rows: z.number().int().min(1).max(10_000_000).default(100_000).describe('Rows read per query at most; a prediction returning more scores 0 (default 100000).'),
    columns: z.enum(['permuted', 'ordered']).default('permuted').describe('permuted: columns may come in any order (Spider test suite; default); ordered: as in the gold.'),
    rows: z.enum(['multiset', 'set']).default('multiset').describe('multiset: duplicate rows count (Spider; default); set: rows as a set, order ignored (BIRD, Reasoning-SQL).'),
    schema_metric: z.enum(['recall', 'jaccard']).default('recall').describe('Schema linking: recall over the gold tables/columns (Reasoning-SQL code; default) or Jaccard.'),
    ngram_n: z.number().int().min(1).max(8).default(2).describe('n of the n-gram similarity (default 2, bigrams).'),
    weights: z
      .strictObject({
        execution: z.number().optional().describe('Weight of execution accuracy (default 3).'),
        syntax: z.number().optional().describe('Weight of the syntax check (default 1).'),
        schema_linking: z.number().optional().describe('Weight of schema linking (default 1).'),
        ngram: z.number().optional().describe('Weight of n-gram similarity (default 1).'),
        format: z.number().optional().describe('Weight of the <reasoning>/<answer> XML-count format term, itself at most 0.5 (default 1).'),
      })
      .optional()
      .describe('reasoning_sql only: weights of its terms (defaults 3, 1, 1, 1, 1 as in the paper’s code).'),
    workers: z.number().int().min(1).max(64).default(1).describe('Query processes (shared by all sql components of the process; the largest value wins).'),
    fallback_judge: fallbackJudgeSchema.optional(),
    answer: answerParam,
  },
  create(params, ctx) {
    const { mode } = params;
    if (params.weights !== undefined && mode !== 'reasoning_sql') throw new ParamError('weights', `\`weights\` applies to mode reasoning_sql only (mode is ${mode})`);
    let root: string | null = null;
    if (NEEDS_DATABASE.has(mode)) {
      if (params.databases === undefined) throw new ParamError('databases', `mode ${mode} runs queries: set \`databases\` to a folder of SQLite databases`);
      root = resolve(ctx.specDir, params.databases);
      if (!existsSync(root) || !statSync(root).isDirectory()) throw new ParamError('databases', `databases folder not found: ${root}`);
    }
    if (params.fallback_judge !== undefined && mode !== 'execution' && mode !== 'reasoning_sql')
      throw new ParamError('fallback_judge', `\`fallback_judge\` applies to modes execution and reasoning_sql (mode is ${mode})`);
    const judge: SqlJudge | null = params.fallback_judge === undefined ? null : buildSqlJudge(params.fallback_judge, ctx);
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    const weights: ReasoningSqlWeights = { ...REASONING_SQL_WEIGHTS, ...params.weights };
    const compare: Omit<CompareOptions, 'ordered'> = { columns: params.columns, rows: params.rows };
    const run = { timeoutMs: params.timeout_ms, maxRows: params.max_rows };
    const executor = root === null ? null : sharedExecutor(params.workers);

    const databasePath = (db: unknown): string => {
      if (typeof db !== 'string') throw new Error('reference: no database (set reference.db or meta.db)');
      return resolveDatabase(root!, db);
    };

    /** Runs the prediction: refused without executing when it is not a single SELECT/WITH query. */
    const runPredicted = (path: string, sql: string, op: 'all' | 'first'): Promise<ExecResult> | ExecResult => {
      if (sql === '') return { status: 'error', message: 'no SQL in the completion' };
      const keyword = firstKeyword(sql);
      if (!READ_KEYWORDS.has(keyword)) return { status: 'refused', message: `refused: only SELECT or WITH queries are run (got ${keyword || 'no statement'})` };
      return executor!.run(path, sql, { op, ...run });
    };

    const runGold = async (path: string, db: string, sql: string) => {
      const r = await executor!.run(path, sql, { op: 'all', ...run });
      if (r.status !== 'ok') throw new Error(`gold SQL failed on ${db} (${r.status}): ${r.message}`);
      if (r.truncated) throw new Error(`gold SQL on ${db} returns more than max_rows (${params.max_rows}) rows`);
      return r;
    };

    const matchOnly = async (path: string, db: string, pred: string, gold: string) => {
      const g = await runGold(path, db, gold);
      const p = await runPredicted(path, pred, 'all');
      const ordered = hasTopLevelOrderBy(gold);
      if (p.status !== 'ok') return { score: 0, p, details: { status: p.status, reason: p.message } as Record<string, unknown> };
      if (p.truncated) return { score: 0, p, details: { status: 'too_many_rows', reason: `the query returns more than max_rows (${params.max_rows}) rows` } as Record<string, unknown> };
      const match = resultsMatch(g, p, { ...compare, ordered });
      return { score: match ? 1 : 0, p, details: { status: match ? 'match' : 'mismatch', ordered, gold_rows: g.rows.length, rows: p.rows.length } as Record<string, unknown> };
    };

    /** Execution accuracy, with the judge's rating / 3 in place of a failed match when a fallback judge is set. */
    const execution = async (path: string, db: string, pred: string, gold: string, question: string) => {
      const ex = await matchOnly(path, db, pred, gold);
      const status = ex.details.status as string;
      if (judge === null || ex.score === 1 || status === 'refused' || !hasSelect(pred)) return ex;
      const said = status === 'mismatch' ? `ran, but returned ${String(ex.details.rows)} row(s) that differ from the gold result` : `${status}: ${String(ex.details.reason ?? '')}`;
      const { rating, attempts } = await judge.rate(question, gold, pred, said);
      return { score: rating / EXECUTION_MATCH, p: ex.p, details: { ...ex.details, judge: rating, judge_attempts: attempts } };
    };

    const syntaxFrom = async (path: string, pred: string, full: ExecResult | null) => {
      if (full && full.status !== 'timeout') return full.status === 'ok' ? 1 : 0;
      const r = await runPredicted(path, pred, 'first');
      return r.status === 'ok' ? 1 : 0;
    };

    return {
      scope: 'rollout',
      async grade(s): Promise<Graded | null> {
        const ref = readReference(s.reference, s.meta);
        if (ref === null) return null;
        const a = answerRegion(s.completion, region);
        const where = 'missing' in a ? { region: a.region, reason: `no answer: ${a.reason}` } : { region: a.region };
        const pred = 'missing' in a ? '' : spiderPostprocess(extractSql(a.text));
        const gold = spiderPostprocess(ref.sql.trim());
        if (mode === 'ngram') return { score: pred === '' ? 0 : ngramSimilarity(pred, gold, params.ngram_n), details: { sql: pred, ...where } };
        if (mode === 'schema_linking') {
          const score = schemaLinking(pred, gold, params.schema_metric);
          return score === null ? { score: null, details: { sql: pred, reason: 'the gold SQL could not be parsed', ...where } } : { score, details: { sql: pred, ...where } };
        }
        const path = databasePath(ref.db);
        const db = ref.db as string;
        if (mode === 'syntax') {
          const r = await runPredicted(path, pred, 'first');
          return { score: r.status === 'ok' ? 1 : 0, details: r.status === 'ok' ? { sql: pred, ...where } : { sql: pred, status: r.status, reason: r.message, ...where } };
        }
        if (mode === 'execution') {
          const ex = await execution(path, db, pred, gold, s.prompt);
          return { score: ex.score, details: { sql: pred, ...ex.details, ...where } };
        }
        // reasoning_sql
        const select = hasSelect(pred);
        const ex = select ? await execution(path, db, pred, gold, s.prompt) : { score: 0, p: null, details: { status: 'no_select' } as Record<string, unknown> };
        const syntax = await syntaxFrom(path, pred, ex.p);
        const schema = select ? (schemaLinking(pred, gold, params.schema_metric) ?? 0) : 0;
        const ngram = ngramSimilarity(pred, gold, params.ngram_n);
        const format = xmlCount(s.completion);
        const score =
          weights.execution * ex.score + weights.syntax * syntax + weights.schema_linking * schema + weights.ngram * ngram + weights.format * format;
        return { score, details: { sql: pred, execution: ex.score, syntax, schema_linking: schema, ngram, format, ...ex.details, ...where } };
      },
    };
  },
});
