import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/shared-data.js';
import { buildGrader, gradeAll, scoreOne } from '../harness.js';
import { resultsMatch } from './compare.js';
import { sqlGrader } from './index.js';

// Data: Spider's gold SQL for the department_store database (Spider train split, CC BY-SA 4.0), each run
// on it, and the database itself (via wz1498090183/sql-mind-agent @ 1c59a1e), in ../shared/data/text2sql/.
const goldFile = sharedData('text2sql/spider_train_department_store_gold_sql.jsonl');
const dbFile = sharedData('text2sql/database/department_store/department_store.sqlite');
const databases = dbFile === null ? '' : dirname(dirname(dbFile));

/** Equivalent rewrites of each distinct gold query, written for these tests. */
const REWRITES: Record<string, string> = {
  'SELECT product_id FROM product_suppliers ORDER BY total_amount_purchased DESC LIMIT 3': 'select ps.product_id from PRODUCT_SUPPLIERS as ps order by ps.total_amount_purchased desc limit 3 offset 0',
  'SELECT product_id ,  product_type_code FROM products ORDER BY product_price LIMIT 1': 'SELECT product_type_code, product_id FROM products WHERE product_price = (SELECT min(product_price) FROM products)',
  'SELECT count(DISTINCT product_type_code) FROM products': 'SELECT count(*) FROM (SELECT DISTINCT product_type_code FROM products WHERE product_type_code IS NOT NULL)',
  'SELECT T1.address_details FROM addresses AS T1 JOIN customer_addresses AS T2 ON T1.address_id  =  T2.address_id WHERE T2.customer_id  =  10':
    'SELECT a.address_details FROM addresses a WHERE a.address_id IN (SELECT address_id FROM customer_addresses WHERE customer_id = 10)',
  'SELECT T1.staff_id ,  T1.staff_gender FROM staff AS T1 JOIN staff_department_assignments AS T2 ON T1.staff_id  =  T2.staff_id WHERE T2.job_title_code  =  "Department Manager"':
    "SELECT s.staff_id, s.staff_gender FROM staff s, staff_department_assignments d WHERE d.staff_id = s.staff_id AND d.job_title_code = 'Department Manager'",
  'SELECT payment_method_code ,  count(*) FROM customers GROUP BY payment_method_code': 'SELECT count(customer_id), payment_method_code FROM customers GROUP BY 2',
  'SELECT product_id FROM order_items GROUP BY product_id ORDER BY count(*) DESC LIMIT 1': 'SELECT i.product_id FROM Order_Items AS i GROUP BY i.product_id ORDER BY COUNT(i.order_item_id) DESC LIMIT 1',
  'SELECT T1.customer_name ,  T1.customer_phone ,  T1.customer_email FROM customers AS T1 JOIN customer_orders AS T2 ON T1.customer_id  =  T2.customer_id GROUP BY T2.customer_id ORDER BY count(*) DESC LIMIT 1':
    'SELECT c.customer_name, c.customer_phone, c.customer_email FROM customers c JOIN customer_orders o USING (customer_id) GROUP BY o.customer_id ORDER BY count(o.order_id) DESC LIMIT 1',
  'SELECT product_type_code ,  avg(product_price) FROM products GROUP BY product_type_code': 'SELECT avg(p.product_price) AS average, p.product_type_code FROM Products AS p GROUP BY p.product_type_code',
  'SELECT count(*) FROM department_stores AS T1 JOIN department_store_chain AS T2 ON T1.dept_store_chain_id  =  T2.dept_store_chain_id WHERE T2.dept_store_chain_name  =  "South"':
    "SELECT count(*) FROM department_stores WHERE dept_store_chain_id IN (SELECT dept_store_chain_id FROM department_store_chain WHERE dept_store_chain_name = 'South')",
  'SELECT T1.staff_name ,  T2.job_title_code FROM staff AS T1 JOIN staff_department_assignments AS T2 ON T1.staff_id  =  T2.staff_id ORDER BY T2.date_assigned_to DESC LIMIT 1':
    'SELECT s.staff_name, a.job_title_code FROM staff_department_assignments a JOIN staff s ON s.staff_id = a.staff_id ORDER BY a.date_assigned_to DESC LIMIT 1',
  'SELECT T2.product_type_code ,  T2.product_name ,  T2.product_price FROM product_suppliers AS T1 JOIN products AS T2 ON T1.product_id  =  T2.product_id WHERE T1.supplier_id  =  3':
    'SELECT p.product_type_code, p.product_name, p.product_price FROM products p JOIN product_suppliers ps ON ps.product_id = p.product_id AND ps.supplier_id = 3',
  'SELECT DISTINCT T1.customer_name FROM customers AS T1 JOIN customer_orders AS T2 ON T1.customer_id  =  T2.customer_id WHERE T2.order_status_code  =  "Pending" ORDER BY T2.customer_id':
    "select distinct c.customer_name from customers c join customer_orders o on c.customer_id = o.customer_id where o.order_status_code = 'Pending' order by o.customer_id",
  'SELECT T1.customer_name ,  T1.customer_address FROM customers AS T1 JOIN customer_orders AS T2 ON T1.customer_id  =  T2.customer_id WHERE T2.order_status_code  =  "New" INTERSECT SELECT T1.customer_name ,  T1.customer_address FROM customers AS T1 JOIN customer_orders AS T2 ON T1.customer_id  =  T2.customer_id WHERE T2.order_status_code  =  "Pending"':
    "SELECT DISTINCT customer_name, customer_address FROM customers WHERE customer_id IN (SELECT customer_id FROM customer_orders WHERE order_status_code = 'New') AND customer_id IN (SELECT customer_id FROM customer_orders WHERE order_status_code = 'Pending')",
  'SELECT T1.product_id FROM product_suppliers AS T1 JOIN products AS T2 ON T1.product_id  =  T2.product_id WHERE T1.supplier_id  =  2 AND T2.product_price  >  (SELECT avg(product_price) FROM products)':
    'SELECT ps.product_id FROM product_suppliers ps WHERE ps.supplier_id = 2 AND ps.product_id IN (SELECT product_id FROM products WHERE product_price > (SELECT avg(product_price) FROM products))',
  'SELECT T2.dept_store_id ,  T2.store_name FROM departments AS T1 JOIN department_stores AS T2 ON T1.dept_store_id  =  T2.dept_store_id WHERE T1.department_name  =  "marketing" INTERSECT SELECT T2.dept_store_id ,  T2.store_name FROM departments AS T1 JOIN department_stores AS T2 ON T1.dept_store_id  =  T2.dept_store_id WHERE T1.department_name  =  "managing"':
    "SELECT DISTINCT s.store_name, s.dept_store_id FROM department_stores s WHERE EXISTS (SELECT 1 FROM departments d WHERE d.dept_store_id = s.dept_store_id AND d.department_name = 'marketing') AND EXISTS (SELECT 1 FROM departments d WHERE d.dept_store_id = s.dept_store_id AND d.department_name = 'managing')",
  'SELECT dept_store_chain_id FROM department_stores GROUP BY dept_store_chain_id ORDER BY count(*) DESC LIMIT 2': 'select dept_store_chain_id from department_stores group by 1 order by count(dept_store_id) desc limit 2',
  'SELECT department_id FROM staff_department_assignments GROUP BY department_id ORDER BY count(*) LIMIT 1': 'SELECT department_id FROM Staff_Department_Assignments GROUP BY department_id ORDER BY COUNT(*) ASC LIMIT 1',
  'SELECT product_type_code ,  max(product_price) ,  min(product_price) FROM products GROUP BY product_type_code': 'SELECT min(product_price), max(product_price), product_type_code FROM products GROUP BY product_type_code',
  'SELECT product_type_code FROM products GROUP BY product_type_code HAVING avg(product_price)  >  (SELECT avg(product_price) FROM products)':
    'SELECT p.product_type_code FROM products p GROUP BY 1 HAVING avg(p.product_price) > (SELECT avg(q.product_price) FROM products AS q)',
  'SELECT T1.staff_id ,  T1.staff_name FROM staff AS T1 JOIN Staff_Department_Assignments AS T2 ON T1.staff_id  =  T2.staff_id ORDER BY date_assigned_to - date_assigned_from LIMIT 1':
    'SELECT s.staff_id, s.staff_name FROM staff s JOIN staff_department_assignments a ON s.staff_id = a.staff_id ORDER BY a.date_assigned_to - a.date_assigned_from ASC LIMIT 1',
  'SELECT product_name ,  product_id FROM products WHERE product_price BETWEEN 600 AND 700': 'SELECT product_name, product_id FROM products WHERE product_price >= 600 AND product_price <= 700',
  'SELECT DISTINCT customer_id FROM Customer_Orders WHERE order_date  >  (SELECT min(order_date) FROM Customer_Orders WHERE order_status_code  =  "Cancelled")':
    "SELECT customer_id FROM customer_orders WHERE order_date > (SELECT min(order_date) FROM customer_orders WHERE order_status_code = 'Cancelled') GROUP BY customer_id",
  "SELECT staff_id FROM Staff_Department_Assignments WHERE date_assigned_to  <  (SELECT max(date_assigned_to) FROM Staff_Department_Assignments WHERE job_title_code  =  'Clerical Staff')":
    'SELECT staff_id FROM staff_department_assignments WHERE date_assigned_to < (SELECT date_assigned_to FROM staff_department_assignments WHERE job_title_code = "Clerical Staff" ORDER BY date_assigned_to DESC LIMIT 1)',
  'SELECT customer_name ,  customer_id FROM customers WHERE customer_address LIKE "%TN%"': "SELECT customer_name, customer_id FROM customers WHERE instr(upper(customer_address), 'TN') > 0",
  'SELECT T1.staff_name ,  T1.staff_gender FROM staff AS T1 JOIN staff_department_assignments AS T2 ON T1.staff_id  =  T2.staff_id WHERE T2.date_assigned_from LIKE "2016%"':
    "SELECT s.staff_name, s.staff_gender FROM staff s JOIN staff_department_assignments a ON s.staff_id = a.staff_id WHERE substr(a.date_assigned_from, 1, 4) = '2016'",
  'SELECT T1.staff_name FROM staff AS T1 JOIN staff_department_assignments AS T2 ON T1.staff_id  =  T2.staff_id GROUP BY T2.staff_id HAVING COUNT (*)  >  1':
    'SELECT staff_name FROM staff WHERE staff_id IN (SELECT staff_id FROM staff_department_assignments GROUP BY staff_id HAVING count(*) > 1)',
  'SELECT T1.supplier_name ,  T1.supplier_phone FROM Suppliers AS T1 JOIN supplier_addresses AS T2 ON T1.supplier_id  =  T2.supplier_id JOIN addresses AS T3 ON T2.address_id  =  T3.address_id ORDER BY T3.address_details':
    'SELECT s.supplier_name, s.supplier_phone FROM suppliers s, supplier_addresses sa, addresses a WHERE s.supplier_id = sa.supplier_id AND sa.address_id = a.address_id ORDER BY a.address_details',
  'SELECT customer_phone FROM customers UNION SELECT supplier_phone FROM suppliers': 'SELECT supplier_phone FROM suppliers UNION SELECT customer_phone FROM customers',
  'SELECT product_id FROM Order_Items GROUP BY product_id HAVING count(*)  >  3 UNION SELECT product_id FROM Product_Suppliers GROUP BY product_id HAVING sum(total_amount_purchased)  >  80000':
    'SELECT product_id FROM product_suppliers GROUP BY product_id HAVING sum(total_amount_purchased) > 80000 UNION SELECT product_id FROM order_items GROUP BY product_id HAVING count(*) > 3',
  'SELECT product_id ,  product_name FROM products WHERE product_price  <  600 OR product_price  >  900': 'SELECT product_id, product_name FROM products WHERE NOT (product_price BETWEEN 600 AND 900)',
  'SELECT supplier_id FROM Product_Suppliers GROUP BY supplier_id HAVING avg(total_amount_purchased)  >  50000 OR avg(total_amount_purchased)  <  30000':
    'SELECT supplier_id FROM (SELECT supplier_id, avg(total_amount_purchased) AS a FROM product_suppliers GROUP BY supplier_id) WHERE a > 50000 OR a < 30000',
  'SELECT avg(total_amount_purchased) ,  avg(total_value_purchased) FROM Product_Suppliers WHERE supplier_id  =  (SELECT supplier_id FROM Product_Suppliers GROUP BY supplier_id ORDER BY count(*) DESC LIMIT 1)':
    'SELECT avg(ps.total_amount_purchased), avg(ps.total_value_purchased) FROM product_suppliers ps WHERE ps.supplier_id IN (SELECT supplier_id FROM product_suppliers GROUP BY supplier_id ORDER BY count(*) DESC LIMIT 1)',
  'SELECT max(customer_code) ,  min(customer_code) FROM Customers': 'SELECT (SELECT max(customer_code) FROM customers), (SELECT min(customer_code) FROM customers)',
  'SELECT DISTINCT T1.customer_name FROM customers AS T1 JOIN customer_orders AS T2 ON T1.customer_id  =  T2.customer_id JOIN order_items AS T3 ON T2.order_id  =  T3.order_id JOIN products AS T4 ON T3.product_id  =  T4.product_id WHERE T4.product_name  =  "keyboard"':
    "SELECT DISTINCT customer_name FROM customers WHERE customer_id IN (SELECT o.customer_id FROM customer_orders o JOIN order_items i ON i.order_id = o.order_id JOIN products p ON p.product_id = i.product_id WHERE p.product_name = 'keyboard')",
  'SELECT DISTINCT T1.supplier_name ,  T1.supplier_phone FROM suppliers AS T1 JOIN product_suppliers AS T2 ON T1.supplier_id  =  T2.supplier_id JOIN products AS T3 ON T2.product_id  =  T3.product_id WHERE T3.product_name  =  "red jeans"':
    "SELECT DISTINCT supplier_name, supplier_phone FROM suppliers WHERE supplier_id IN (SELECT supplier_id FROM product_suppliers WHERE product_id IN (SELECT product_id FROM products WHERE product_name = 'red jeans'))",
  'SELECT max(product_price) ,  min(product_price) ,  product_type_code FROM products GROUP BY product_type_code ORDER BY product_type_code':
    'SELECT max(product_price), min(product_price), product_type_code FROM products GROUP BY product_type_code ORDER BY 3',
  'SELECT order_id ,  customer_id FROM customer_orders WHERE order_status_code  =   "Cancelled" ORDER BY order_date': "SELECT order_id, customer_id FROM customer_orders WHERE order_status_code IN ('Cancelled') ORDER BY order_date ASC",
  'SELECT DISTINCT T3.product_name FROM customer_orders AS T1 JOIN order_items AS T2 ON T1.order_id  =  T2.order_id JOIN products AS T3 ON T2.product_id  =  T3.product_id GROUP BY T3.product_id HAVING COUNT (DISTINCT T1.customer_id)  >=  2':
    'SELECT DISTINCT p.product_name FROM products p WHERE p.product_id IN (SELECT i.product_id FROM order_items i JOIN customer_orders o ON o.order_id = i.order_id GROUP BY i.product_id HAVING count(DISTINCT o.customer_id) >= 2)',
  'SELECT DISTINCT T1.customer_name FROM customers AS T1 JOIN customer_orders AS T2 ON T1.customer_id  =  T2.customer_id JOIN order_items AS T3 ON T2.order_id  =  T3.order_id GROUP BY T1.customer_id HAVING COUNT (DISTINCT T3.product_id)  >=  3':
    'SELECT DISTINCT c.customer_name FROM customers c WHERE (SELECT count(DISTINCT i.product_id) FROM customer_orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.customer_id = c.customer_id) >= 3',
  'SELECT T1.staff_name ,  T1.staff_gender FROM staff AS T1 JOIN Staff_Department_Assignments AS T2 ON T1.staff_id  =  T2.staff_id WHERE T2.job_title_code  =  "Sales Person" EXCEPT SELECT T1.staff_name ,  T1.staff_gender FROM staff AS T1 JOIN Staff_Department_Assignments AS T2 ON T1.staff_id  =  T2.staff_id WHERE T2.job_title_code  =  "Clerical Staff"':
    "SELECT DISTINCT s.staff_name, s.staff_gender FROM staff s JOIN staff_department_assignments a ON a.staff_id = s.staff_id WHERE a.job_title_code = 'Sales Person' AND (s.staff_name, s.staff_gender) NOT IN (SELECT s2.staff_name, s2.staff_gender FROM staff s2 JOIN staff_department_assignments a2 ON a2.staff_id = s2.staff_id WHERE a2.job_title_code = 'Clerical Staff')",
  'SELECT customer_id ,  customer_name FROM customers WHERE customer_address LIKE "%WY%" AND payment_method_code != "Credit Card"':
    "SELECT customer_id, customer_name FROM customers WHERE customer_address LIKE '%wy%' AND payment_method_code <> 'Credit Card'",
  "SELECT avg(product_price) FROM products WHERE product_type_code  =  'Clothes'": 'SELECT avg(p.product_price) FROM products AS p WHERE p.product_type_code = "Clothes"',
  "SELECT product_name FROM products WHERE product_type_code  =  'Hardware' ORDER BY product_price DESC LIMIT 1":
    "SELECT product_name FROM products WHERE product_type_code = 'Hardware' AND product_price = (SELECT max(product_price) FROM products WHERE product_type_code = 'Hardware')",
};

/** Near misses written for these tests: each differs from its gold in one detail. */
const NEAR_MISSES: [string, string][] = [
  ['SELECT product_id FROM product_suppliers ORDER BY total_amount_purchased DESC LIMIT 3', 'SELECT product_id FROM product_suppliers ORDER BY total_amount_purchased ASC LIMIT 3'],
  ['SELECT product_id FROM product_suppliers ORDER BY total_amount_purchased DESC LIMIT 3', 'SELECT product_id FROM product_suppliers ORDER BY total_amount_purchased DESC LIMIT 2'],
  ['SELECT count(DISTINCT product_type_code) FROM products', 'SELECT count(product_type_code) FROM products'],
  ['SELECT product_name ,  product_id FROM products WHERE product_price BETWEEN 600 AND 700', 'SELECT product_name FROM products WHERE product_price BETWEEN 600 AND 700'],
  ['SELECT customer_phone FROM customers UNION SELECT supplier_phone FROM suppliers', 'SELECT customer_phone FROM customers'],
  ["SELECT avg(product_price) FROM products WHERE product_type_code  =  'Clothes'", "SELECT avg(product_price) FROM products WHERE product_type_code = 'clothes'"],
  ['SELECT max(product_price) ,  min(product_price) ,  product_type_code FROM products GROUP BY product_type_code ORDER BY product_type_code', 'SELECT max(product_price), min(product_price), product_type_code FROM products GROUP BY product_type_code ORDER BY product_type_code DESC'],
];

interface Row {
  id: string;
  db_id: string;
  gold_sql: string;
  gold_result: unknown[][];
}

const fence = (sql: string) => `The query:\n\`\`\`sql\n${sql}\n\`\`\``;

describe.skipIf(goldFile === null || dbFile === null)('sql on Spider department_store', () => {
  const rows: Row[] = goldFile ? readFileSync(goldFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  const ex = () => buildGrader(sqlGrader, { databases });
  const reference = (r: Row) => ({ sql: r.gold_sql, db: r.db_id });

  it('scores every gold query 1 against itself and against an equivalent rewrite', async () => {
    expect(rows).toHaveLength(88);
    const g = ex();
    const self = await gradeAll(g, rows.map((r) => ({ completion: fence(r.gold_sql), reference: reference(r) })));
    expect(self.filter((o) => o.score !== 1)).toEqual([]);
    const distinct = [...new Set(rows.map((r) => r.gold_sql))];
    expect(distinct.filter((q) => REWRITES[q] === undefined)).toEqual([]);
    const rewritten = await gradeAll(g, rows.map((r) => ({ completion: fence(REWRITES[r.gold_sql]!), reference: reference(r) })));
    expect(rewritten.map((o, i) => [rows[i]!.id, o.score, o.details?.status])).toEqual(rows.map((r) => [r.id, 1, 'match']));
  });

  it('scores wrong queries 0: other golds with other results, and near misses', async () => {
    const g = ex();
    const wrong = rows.map((r, i) => {
      const other = rows.slice(i + 1).concat(rows.slice(0, i)).find((o) => !resultsMatch({ columns: o.gold_result[0]?.length ?? 1, rows: o.gold_result }, { columns: r.gold_result[0]?.length ?? 1, rows: r.gold_result }, { ordered: false, columns: 'permuted', rows: 'multiset' }))!;
      return { completion: fence(other.gold_sql), reference: reference(r) };
    });
    const scores = await gradeAll(g, wrong);
    expect(scores.filter((o) => o.score !== 0)).toEqual([]);
    const near = await gradeAll(g, NEAR_MISSES.map(([gold, pred]) => ({ completion: pred, reference: { sql: gold, db: 'department_store' } })));
    expect(near.map((o) => [o.score, o.details?.status])).toEqual(NEAR_MISSES.map(() => [0, 'mismatch']));
  });

  it('refuses a write, an ATTACH and a second statement, and stops a runaway cross join, with a clear detail', async () => {
    const g = buildGrader(sqlGrader, { databases, timeout_ms: 1000 });
    const ref = { sql: 'SELECT count(*) FROM products', db: 'department_store' };
    const cases = [
      ['DELETE FROM products', 'refused', /only SELECT or WITH queries are run \(got DELETE\)/],
      ["ATTACH DATABASE '/tmp/rk.db' AS x", 'refused', /got ATTACH/],
      ['SELECT 1; DROP TABLE products', 'refused', /only one statement/],
      ['WITH t AS (SELECT 1) UPDATE products SET product_price = 0', 'refused', /not a read-only query/],
      [`SELECT count(*) FROM ${Array.from({ length: 9 }, (_, i) => `products p${i}`).join(', ')}`, 'timeout', /query stopped after 1000 ms \(time limit\)/],
      ['SELECT count(*) FROM productz', 'error', /no such table/],
      ['I do not know.', 'refused', /got I/],
    ] as const;
    const out = await gradeAll(g, cases.map(([sql]) => ({ completion: fence(sql), reference: ref })));
    out.forEach((o, i) => {
      expect(o.score).toBe(0);
      expect(o.details).toMatchObject({ status: cases[i]![1], reason: expect.stringMatching(cases[i]![2]) });
    });
    expect(await scoreOne(g, fence('SELECT count(*) FROM products'), ref)).toBe(1); // the batch goes on
  });

  it('syntax, schema_linking, ngram and reasoning_sql modes', async () => {
    const ref = { sql: 'SELECT product_name FROM products WHERE product_price > 500', db: 'department_store' };
    const syntax = buildGrader(sqlGrader, { mode: 'syntax', databases });
    expect(await scoreOne(syntax, 'SELECT product_name FROM products', ref)).toBe(1);
    expect(await scoreOne(syntax, 'SELECT nope FROM products', ref)).toBe(0);
    expect(await scoreOne(syntax, 'DROP TABLE products', ref)).toBe(0);
    const schema = buildGrader(sqlGrader, { mode: 'schema_linking' });
    expect(await scoreOne(schema, 'SELECT product_name FROM products', ref)).toBeCloseTo(2 / 3, 12);
    expect(await scoreOne(buildGrader(sqlGrader, { mode: 'schema_linking', schema_metric: 'jaccard' }), 'SELECT product_name, product_id FROM products', ref)).toBe(0.5);
    expect(await scoreOne(buildGrader(sqlGrader, { mode: 'ngram' }), ref.sql, ref)).toBe(1);

    const rs = buildGrader(sqlGrader, { mode: 'reasoning_sql', databases });
    const answer = (sql: string) => `<reasoning>\nprices over 500\n</reasoning>\n<answer>\n\`\`\`sql\n${sql}\n\`\`\`\n</answer>\n`;
    expect(await scoreOne(rs, answer(ref.sql), ref)).toBe(6.5);
    const [wrong] = await gradeAll(rs, [{ completion: answer('SELECT product_name FROM products WHERE product_price > 900'), reference: ref }]);
    expect(wrong!.details).toMatchObject({ execution: 0, syntax: 1, schema_linking: 1, format: 0.5 });
    expect(wrong!.score).toBeCloseTo(0 + 1 + 1 + (wrong!.details!.ngram as number) + 0.5, 12);
    expect(await scoreOne(rs, answer('no query'), ref)).toBe(0.5);
    const light = buildGrader(sqlGrader, { mode: 'reasoning_sql', databases, weights: { execution: 1, format: 0 } });
    expect(await scoreOne(light, answer(ref.sql), ref)).toBe(4);
  });

  it('gives the documented example 1, and compares row order only when the gold has ORDER BY', async () => {
    const g = ex();
    const ref = (sql: string) => ({ sql, db: 'department_store' });
    expect(await scoreOne(g, '```sql\nSELECT count(*) FROM products\n```', ref('SELECT COUNT(product_id) FROM Products'))).toBe(1);
    const asc = 'SELECT product_name FROM products ORDER BY product_price ASC';
    const desc = 'SELECT product_name FROM products ORDER BY product_price DESC';
    expect(await scoreOne(g, desc, ref(asc))).toBe(0);
    expect(await scoreOne(g, desc, ref('SELECT product_name FROM products'))).toBe(1);
    expect(await scoreOne(g, 'SELECT product_name FROM products', ref(`SELECT * FROM (${asc}) LIMIT 100`))).toBe(1);
    const strict = buildGrader(sqlGrader, { databases, columns: 'ordered' });
    expect(await scoreOne(strict, 'SELECT product_id, product_name FROM products', ref('SELECT product_name, product_id FROM products'))).toBe(0);
    expect(await scoreOne(g, 'SELECT product_id, product_name FROM products', ref('SELECT product_name, product_id FROM products'))).toBe(1);
  });

  it('reads the database from meta, returns null without a reference, and raises on bad ones', async () => {
    const g = ex();
    expect(await scoreOne(g, 'SELECT 1', 'SELECT 1', { meta: { db: 'department_store' } })).toBe(1);
    expect(await scoreOne(g, 'SELECT 1', undefined)).toBeNull();
    await expect(scoreOne(g, 'SELECT 1', { sql: 'SELECT 1', db: '../text2sql' })).rejects.toThrow(/not a plain folder name/);
    await expect(scoreOne(g, 'SELECT 1', { sql: 'SELECT 1', db: 'spider_missing' })).rejects.toThrow(/not found/);
    await expect(scoreOne(g, 'SELECT 1', { sql: 'SELECT 1' })).rejects.toThrow(/no database/);
    await expect(scoreOne(g, 'SELECT 1', { sql: 'SELECT nope FROM products', db: 'department_store' })).rejects.toThrow(/gold SQL failed/);
    await expect(scoreOne(g, 'SELECT 1', { db: 'department_store' })).rejects.toThrow(/reference/);
  });
});

describe('sql params', () => {
  it('needs a databases folder for the modes that run queries, and weights only for reasoning_sql', () => {
    expect(() => buildGrader(sqlGrader, {})).toThrow(/databases/);
    expect(() => buildGrader(sqlGrader, { mode: 'syntax', databases: '/nonexistent/rk' })).toThrow(/folder not found/);
    expect(() => buildGrader(sqlGrader, { mode: 'ngram', weights: { ngram: 1 } })).toThrow(/reasoning_sql only/);
    expect(() => buildGrader(sqlGrader, { mode: 'reasoning_sql', databases: '.', weights: { bleu: 1 } })).toThrow();
    expect(() => buildGrader(sqlGrader, { mode: 'ngram', ngram_n: 0 })).toThrow();
    expect(() => buildGrader(sqlGrader, { mode: 'schema_linking' })).not.toThrow();
  });
});
