import { afterAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/shared-data.js';
import { SqlExecutor } from './executor.js';

// Data: the Spider database department_store (Spider, CC BY-SA 4.0; via wz1498090183/sql-mind-agent
// @ 1c59a1e), in ../shared/data/text2sql/database/.
const db = sharedData('text2sql/database/department_store/department_store.sqlite');
const RUNAWAY = `SELECT count(*) FROM ${Array.from({ length: 9 }, (_, i) => `products p${i}`).join(', ')}`;

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe.skipIf(db === null)('SqlExecutor', () => {
  const ex = new SqlExecutor(1);
  afterAll(() => ex.close());
  const all = { op: 'all' as const, timeoutMs: 20_000, maxRows: 1000 };

  it('runs a query read-only and reads "x" as a string when no column x exists', async () => {
    const r = await ex.run(db!, 'SELECT product_name, "product_price" FROM products WHERE product_type_code = "Hardware" ORDER BY product_id LIMIT 2', all);
    expect(r).toMatchObject({ status: 'ok', columns: 2, truncated: false, strings: ['"Hardware"'] });
    if (r.status === 'ok') expect(r.rows.map((row) => row[0])).toEqual(['monitor', 'mouse']);
  });

  it('refuses writes, ATTACH, PRAGMA and several statements, and reports errors', async () => {
    const refused = [
      'DELETE FROM products',
      "ATTACH DATABASE '/tmp/rk-attack.db' AS x",
      'PRAGMA writable_schema = ON',
      'SELECT 1; DROP TABLE products',
      'WITH x AS (SELECT 1) DELETE FROM products',
      "SELECT 1; ATTACH DATABASE ':memory:' AS y",
    ];
    for (const sql of refused) expect(await ex.run(db!, sql, all), sql).toMatchObject({ status: 'refused', message: expect.stringMatching(/^refused: /) });
    expect(await ex.run(db!, 'SELECT nope FROM products', all)).toMatchObject({ status: 'error', message: 'no such column: nope' });
    expect(await ex.run(db!, 'SELECT * FROM products', all)).toMatchObject({ status: 'ok' }); // the table is still there
  });

  it('stops a runaway cross join at the time limit by killing its process, then carries on', async () => {
    await ex.run(db!, 'SELECT 1', all);
    const [pid] = ex.processIds();
    expect(pid).toBeTypeOf('number');
    const r = await ex.run(db!, RUNAWAY, { op: 'all', timeoutMs: 300, maxRows: 10 });
    expect(r).toEqual({ status: 'timeout', message: 'query stopped after 300 ms (time limit)' });
    expect(await gone(pid!)).toBe(true);
    expect(await ex.run(db!, 'SELECT count(*) FROM products', all)).toMatchObject({ status: 'ok', rows: [[15n]] });
    expect(ex.processIds()).not.toContain(pid);
  });

  it('runs the queries queued behind a runaway one once it is stopped', async () => {
    const pool = new SqlExecutor(1, 4);
    try {
      const runaway = pool.run(db!, RUNAWAY, { op: 'all', timeoutMs: 300, maxRows: 10 });
      const after = [1, 2, 3].map((i) => pool.run(db!, `SELECT ${i}`, all));
      expect(await runaway).toMatchObject({ status: 'timeout' });
      expect((await Promise.all(after)).map((r) => (r.status === 'ok' ? r.rows[0]![0] : r.status))).toEqual([1n, 2n, 3n]);
    } finally {
      pool.close();
    }
  });

  it('stops reading at max_rows', async () => {
    const r = await ex.run(db!, 'SELECT a.product_id FROM products a, products b, products c', { op: 'all', timeoutMs: 20_000, maxRows: 7 });
    expect(r).toMatchObject({ status: 'ok', truncated: true });
    if (r.status === 'ok') expect(r.rows).toHaveLength(7);
    expect(await ex.run(db!, 'SELECT a.product_id FROM products a, products b, products c', { op: 'first', timeoutMs: 20_000, maxRows: 7 })).toMatchObject({ rows: [[1n]] });
  });

  it('caches results per (database, SQL, options) and serves a queue with several processes', async () => {
    const p1 = ex.run(db!, 'SELECT 42', all);
    expect(ex.run(db!, 'SELECT 42', all)).toBe(p1);
    const pool = new SqlExecutor(2);
    try {
      const sqls = Array.from({ length: 20 }, (_, i) => `SELECT ${i}, count(*) FROM products`);
      const rs = await Promise.all(sqls.map((s) => pool.run(db!, s, all)));
      expect(rs.map((r) => (r.status === 'ok' ? r.rows[0]![0] : r.status))).toEqual(sqls.map((_, i) => BigInt(i)));
      expect(pool.processIds()).toHaveLength(2);
    } finally {
      pool.close();
    }
  });
});
