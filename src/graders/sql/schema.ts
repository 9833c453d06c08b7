/**
 * Parse-based SQL similarity: schema linking and n-gram overlap, as Reasoning-SQL's training code
 * computes them (MohammadrezaPourreza/RLForSQL `utils/database_manager.py::schema_linking_scorer`,
 * `utils/ngrams.py`), with node-sql-parser in place of sqlglot.
 */
import { createRequire } from 'node:module';
import type sqliteBuild from 'node-sql-parser/build/sqlite.js';
import { segments } from './lex.js';

type SqlParser = InstanceType<typeof sqliteBuild.Parser>;

// node-sql-parser costs ~30 MB once loaded: load it on the first parse, not with the grader registry.
let parsers: [SqlParser, SqlParser] | null = null;
function loadParsers(): [SqlParser, SqlParser] {
  if (!parsers) {
    const req = createRequire(import.meta.url);
    const sqlite = req('node-sql-parser/build/sqlite.js') as typeof sqliteBuild;
    const mysql = req('node-sql-parser/build/mysql.js') as typeof sqliteBuild;
    parsers = [new sqlite.Parser(), new mysql.Parser()];
  }
  return parsers;
}

/** Longer SQL is not parsed (the parser has no time limit); it scores as unparsable. */
export const MAX_PARSE_CHARS = 20_000;

/** What a parse gives: referenced tables and columns, aliases, and the normalised SQL text. */
export interface ParsedSql {
  tables: Set<string>;
  columns: Set<string>;
  aliases: Set<string>;
  normalized: string;
}

function collectAliases(node: unknown, out: Set<string>, depth = 0): void {
  if (depth > 200 || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const x of node) collectAliases(x, out, depth + 1);
    return;
  }
  const o = node as Record<string, unknown>;
  // Table aliases sit on FROM items (`table` key), column aliases on select items (`expr` key).
  if (typeof o.as === 'string' && ('table' in o || 'expr' in o)) out.add(o.as.toLowerCase());
  for (const v of Object.values(o)) collectAliases(v, out, depth + 1);
}

const cache = new Map<string, ParsedSql | null>();
const CACHE_MAX = 4096;

/**
 * Parses SQL with node-sql-parser — its SQLite grammar, else its MySQL grammar (the SQLite grammar of
 * node-sql-parser 5 lacks INTERSECT/EXCEPT; MySQL's reads them and, like SQLite, takes `"x"` as a
 * string). Names are lower-cased (SQLite identifiers are case-insensitive). `null` when neither parses.
 */
export function parseSql(sql: string): ParsedSql | null {
  const hit = cache.get(sql);
  if (hit !== undefined) return hit;
  let parsed: ParsedSql | null = null;
  if (sql.length <= MAX_PARSE_CHARS) {
    const [sqliteParser, mysqlParser] = loadParsers();
    const grammars = [
      [sqliteParser, 'sqlite'],
      [mysqlParser, 'mysql'],
    ] as const;
    const setOp = segments(sql).some((x) => x.kind === 'code' && /\b(?:intersect|except)\b/i.test(x.text));
    for (const [parser, database] of setOp ? [grammars[1], grammars[0]] : grammars) {
      try {
        const r = parser.parse(sql, { database });
        const tables = new Set(r.tableList.map((t) => t.split('::')[2]!.toLowerCase()));
        const columns = new Set(
          r.columnList
            .map((c) => c.split('::')[2]!)
            .filter((c) => c !== '(.*)' && c !== '*')
            .map((c) => c.toLowerCase()),
        );
        const aliases = new Set<string>();
        collectAliases(r.ast, aliases);
        let normalized: string;
        try {
          normalized = parser.sqlify(r.ast, { database });
        } catch {
          normalized = sql;
        }
        parsed = { tables, columns, aliases, normalized };
        break;
      } catch {
        // try the next grammar
      }
    }
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(sql, parsed);
  return parsed;
}

/** How schema linking is scored. */
export type SchemaMetric = 'recall' | 'jaccard';

/** The schema items a query references: table names and column names, in one set (as Reasoning-SQL). */
export function schemaItems(p: ParsedSql): Set<string> {
  return new Set([...p.tables, ...p.columns]);
}

/**
 * Schema-linking score of `pred` against `gold`. `recall` = |S_gold ∩ S_pred| / |S_gold| — what
 * Reasoning-SQL's code computes; `jaccard` = |∩| / |∪|. S = table names ∪ column names (aliases
 * resolved to their tables by the parser; `*` is no column). An empty gold set gives 0, as does a
 * prediction that does not parse; a gold that does not parse gives `null`.
 */
export function schemaLinking(pred: string, gold: string, metric: SchemaMetric): number | null {
  const g = parseSql(gold);
  if (g === null) return null;
  const p = parseSql(pred);
  if (p === null) return 0;
  const sg = schemaItems(g);
  const sp = schemaItems(p);
  let inter = 0;
  for (const x of sg) if (sp.has(x)) inter++;
  if (metric === 'recall') return sg.size === 0 ? 0 : inter / sg.size;
  const union = sg.size + sp.size - inter;
  return union === 0 ? 0 : inter / union;
}

/**
 * Reasoning-SQL's bag of n-grams: the query normalised by the parser (raw text when it does not
 * parse), lower-cased, split into word tokens (`\w+`, Unicode-aware as in Python), minus table/column aliases and `as`, as a set of
 * n-grams (tokens joined by a space).
 */
export function sqlNgrams(sql: string, n: number): Set<string> {
  const p = parseSql(sql);
  const text = (p?.normalized ?? sql).toLowerCase();
  const aliases = p?.aliases ?? new Set<string>();
  const tokens = (text.match(/[\p{L}\p{N}_]+/gu) ?? []).filter((t) => t !== 'as' && !aliases.has(t));
  const out = new Set<string>();
  if (n <= 1) for (const t of tokens) out.add(t);
  else for (let i = 0; i + n <= tokens.length; i++) out.add(tokens.slice(i, i + n).join(' '));
  return out;
}

/** Jaccard similarity of the n-gram sets of two queries (`jaccard_similarity(pred, gold, n)`); 0 when both are empty. */
export function ngramSimilarity(pred: string, gold: string, n = 2): number {
  const a = sqlNgrams(pred, n);
  const b = sqlNgrams(gold, n);
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}
