/**
 * `sql` grader throughput on Spider's department_store gold set (../shared/data/text2sql/: Spider
 * train gold SQL and database, CC BY-SA 4.0). Each graded rollout runs one predicted query in a query
 * process (the gold result is cached after its first run, as in a GRPO group); the predicted SQL gets a
 * unique trailing comment so that no result comes from the cache. For scale it also times the same
 * queries run directly in this process with better-sqlite3 — the cost the time limit adds is the IPC
 * round trip to the query process.
 *
 * Run: npx tsx bench/sql.ts
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { sharedData } from '../test/shared-data.js';
import { buildGrader } from '../src/graders/harness.js';
import { sqlGrader } from '../src/graders/sql/index.js';
import { sharedExecutor } from '../src/graders/sql/executor.js';
import { dqsToString } from '../src/graders/sql/lex.js';
import { toSample } from '../src/rollout/sample.js';
import type { Grader } from '../src/graders/types.js';

export interface SqlBenchFigure {
  name: string;
  queriesPerSecond: number;
  queries: number;
}

interface Row {
  id: string;
  db_id: string;
  gold_sql: string;
}

async function timed(name: string, queries: number, fn: () => Promise<void> | void): Promise<SqlBenchFigure> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  return { name, queries, queriesPerSecond: queries / s };
}

/** Runs the benchmark; `rounds` passes over the 88 gold queries per measurement. */
export async function benchSql(rounds = 10): Promise<SqlBenchFigure[]> {
  const goldFile = sharedData('text2sql/spider_train_department_store_gold_sql.jsonl');
  const dbFile = sharedData('text2sql/database/department_store/department_store.sqlite');
  if (goldFile === null || dbFile === null) return [];
  const rows: Row[] = readFileSync(goldFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const databases = dirname(dirname(dbFile));
  const figures: SqlBenchFigure[] = [];
  let tag = 0;
  const samples = (n: number) =>
    Array.from({ length: n }, () =>
      rows.map((r) => toSample({ id: `b${tag}`, completion: `\`\`\`sql\n${r.gold_sql} -- ${tag++}\n\`\`\``, reference: { sql: r.gold_sql, db: r.db_id } })),
    ).flat();
  const grade = (g: Grader, s: ReturnType<typeof toSample>) => (g.scope === 'rollout' ? g.grade(s) : null);

  // Baseline: the same queries in this process, no time limit possible.
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  // better-sqlite3 reads "x" only as an identifier; in these golds every "…" is a string.
  const plain = rows.map((r) => (r.gold_sql.match(/"[^"]*"/g) ?? []).reduce((sql, token) => dqsToString(sql, token), r.gold_sql));
  figures.push(
    await timed('better-sqlite3 in process (no time limit; baseline)', rounds * rows.length, () => {
      for (let i = 0; i < rounds; i++) for (const q of plain) db.prepare(`${q} -- ${tag++}`).raw(true).all();
    }),
  );
  db.close();

  for (const workers of [1, 2]) {
    const g = buildGrader(sqlGrader, { mode: 'execution', databases, workers });
    // Warm up: start the query processes and cache the gold results.
    await Promise.all(samples(1).map((s) => grade(g, s)));
    const seq = samples(rounds);
    if (workers === 1)
      figures.push(
        await timed('execution, one rollout at a time', seq.length, async () => {
          for (const s of seq) await grade(g, s);
        }),
      );
    const par = samples(rounds);
    figures.push(
      await timed(`execution, concurrent rollouts, ${workers} query process${workers > 1 ? 'es' : ''}`, par.length, async () => {
        await Promise.all(par.map((s) => grade(g, s)));
      }),
    );
  }
  const rs = buildGrader(sqlGrader, { mode: 'reasoning_sql', databases });
  const rsSamples = samples(rounds);
  figures.push(
    await timed('reasoning_sql (execution, syntax, schema linking, n-grams, format), concurrent', rsSamples.length, async () => {
      await Promise.all(rsSamples.map((s) => grade(rs, s)));
    }),
  );
  const cached = samples(1).map((s) => toSample({ ...s.rollout, completion: `\`\`\`sql\n${(s.reference as { sql: string }).sql}\n\`\`\`` }));
  const g = buildGrader(sqlGrader, { mode: 'execution', databases });
  await Promise.all(cached.map((s) => grade(g, s)));
  figures.push(
    await timed('execution, repeated completion (result cache hit)', cached.length * rounds, async () => {
      for (let i = 0; i < rounds; i++) for (const s of cached) await grade(g, s);
    }),
  );
  sharedExecutor().close();
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`sql grader, Spider department_store gold set; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`);
  const figures = await benchSql(Number(process.env.ROUNDS ?? 10));
  for (const f of figures) console.log(`${f.name.padEnd(82)} ${f.queriesPerSecond.toFixed(0).padStart(7)} queries/s  (${f.queries})`);
}
