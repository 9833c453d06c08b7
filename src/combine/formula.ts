import { createRequire } from 'node:module';

// mathjs costs ~90 MB of memory once loaded: load it only when a spec has a formula.
let mathjsParse: ((expr: string) => unknown) | null = null;
function parse(expr: string): unknown {
  mathjsParse ??= (createRequire(import.meta.url)('mathjs') as { parse: (e: string) => unknown }).parse;
  return mathjsParse(expr);
}
import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { defineCombiner, type CombineContext } from './types.js';
import { knownComponents } from './terms.js';

type Fn = (row: Float64Array) => number;

/** The parts of a mathjs node the compiler reads (mathjs's own node types are generic-heavy). */
interface Node {
  type: string;
  op?: string;
  fn?: Node | string;
  implicit?: boolean;
  args?: Node[];
  value?: unknown;
  name?: string;
  content?: Node;
  toString(): string;
}

const BINARY: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => Math.pow(a, b),
};

const UNARY: Record<string, (x: number) => number> = {
  abs: Math.abs,
  floor: Math.floor,
  ceil: Math.ceil,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
};

const FUNCTIONS = [...Object.keys(UNARY), 'min', 'max', 'clip'];
const ALLOWED = `only numbers, component names, + - * / ^, parentheses and ${FUNCTIONS.join(' ')} are allowed`;

const NODE_NAMES: Record<string, string> = {
  AssignmentNode: 'assignment',
  FunctionAssignmentNode: 'function definition',
  AccessorNode: 'property or index access',
  IndexNode: 'index',
  ArrayNode: 'matrix',
  ObjectNode: 'object',
  BlockNode: 'several statements',
  ConditionalNode: 'conditional (?:)',
  RangeNode: 'range',
  RelationalNode: 'comparison',
};

function reject(message: string): never {
  throw new ParamError('expression', message);
}

interface Env {
  ctx: CombineContext;
  /** Component indices the expression names. */
  used: Set<number>;
  /** on_null zero: a null component reads as 0. */
  zero: boolean;
}

/** Checks a parsed expression against the allowed grammar and compiles it into closures over the row. */
function compile(node: Node, env: Env): Fn {
  switch (node.type) {
    case 'ConstantNode': {
      const v = node.value;
      if (typeof v !== 'number') reject(`${JSON.stringify(node.toString())} is not a number; ${ALLOWED}`);
      if (!Number.isFinite(v)) reject(`the number ${node.toString()} is not finite`);
      return () => v;
    }
    case 'SymbolNode': {
      const name = node.name!;
      const { ctx } = env;
      const k = ctx.names.indexOf(name);
      if (k < 0) {
        reject(
          FUNCTIONS.includes(name)
            ? `${name} is a function; call it as ${name}(…)`
            : `unknown name ${JSON.stringify(name)}; known components: ${knownComponents(ctx)} (a formula can name only components whose name is an identifier: letters, digits, _ and $, not starting with a digit)`,
        );
      }
      env.used.add(k);
      if (env.zero) {
        return (row) => {
          const v = row[k];
          return Number.isNaN(v) ? 0 : v;
        };
      }
      return (row) => row[k];
    }
    case 'ParenthesisNode':
      return compile(node.content!, env);
    case 'OperatorNode': {
      const op = node.op!;
      const args = node.args!;
      if (node.implicit) reject(`implicit multiplication in ${JSON.stringify(node.toString())}; write * between the factors`);
      if (args.length === 1 && (op === '-' || op === '+')) {
        const x = compile(args[0], env);
        return op === '-' ? (row) => -x(row) : x;
      }
      const f = BINARY[op];
      if (f === undefined || args.length !== 2) reject(`operator ${JSON.stringify(op)} is not allowed; use + - * / ^`);
      const a = compile(args[0], env);
      const b = compile(args[1], env);
      return (row) => f(a(row), b(row));
    }
    case 'FunctionNode': {
      const fn = node.fn;
      const name = typeof fn === 'object' && fn.type === 'SymbolNode' ? fn.name! : undefined;
      if (name === undefined || !FUNCTIONS.includes(name)) {
        reject(`function ${JSON.stringify(name ?? String(fn))} is not allowed; allowed: ${FUNCTIONS.join(', ')}`);
      }
      const args = node.args!.map((a) => compile(a, env));
      const unary = UNARY[name];
      if (unary !== undefined) {
        if (args.length !== 1) reject(`${name} takes 1 argument, got ${args.length} in ${JSON.stringify(node.toString())}`);
        const x = args[0];
        return (row) => unary(x(row));
      }
      if (name === 'clip') {
        if (args.length !== 3) reject(`clip takes 3 arguments (x, lo, hi), got ${args.length}`);
        const [x, lo, hi] = args;
        return (row) => Math.min(Math.max(x(row), lo(row)), hi(row));
      }
      if (args.length === 0) reject(`${name} needs at least 1 argument`);
      const pick = name === 'min' ? Math.min : Math.max;
      if (args.length === 2) {
        const [a, b] = args;
        return (row) => pick(a(row), b(row));
      }
      return (row) => {
        let m = args[0](row);
        for (let i = 1; i < args.length; i++) m = pick(m, args[i](row));
        return m;
      };
    }
    default:
      return reject(`${NODE_NAMES[node.type] ?? node.type} ${JSON.stringify(node.toString())} is not allowed; ${ALLOWED}`);
  }
}

/**
 * `formula` — the reward is an arithmetic expression over component names, like the
 * `calculate_output` of OpenAI's multi grader: numbers, component names, `+ - * / ^` (`^` is
 * right-associative and binds tighter than unary minus: `-2^2 = -4`), unary minus, parentheses and
 * `min max abs floor ceil exp log sqrt clip(x, lo, hi)` (`log` is the natural log, one argument;
 * `clip(x, lo, hi)` = `min(max(x, lo), hi)`).
 * Component weights are not applied: the expression says everything.
 *
 * The expression is parsed with mathjs's parser and checked node by node — anything else
 * (assignments, function definitions, property access, comparisons, strings, matrices, unknown names
 * or functions, implicit multiplication such as `2a`) is rejected when the spec loads — then compiled
 * into plain closures over numbers; nothing is evaluated by mathjs. Only components whose name is an
 * identifier (letters, digits, `_`, `$`, not starting with a digit) other than mathjs's words `not true
 * false null undefined NaN Infinity` can be named; rename others.
 *
 * A result that is not a finite number (division by zero, `log(0)`, `sqrt(-1)`, overflow) is null, so
 * the rollout is reported instead of feeding ±Infinity into the advantage. Intermediate infinities
 * follow IEEE rules (`min(1, 1/0)` = 1).
 *
 * Nulls: only `null` (default: a null component named in the expression makes the reward null, so
 * the rollout gets advantage 0 and stays out of its group's statistics) and `zero` (nulls count as 0).
 * `exclude` and `renormalize` are refused: "leave the term out" has no meaning inside an arbitrary
 * expression (`correct * (1 + format)` has no term to drop), and a formula has no weights to
 * renormalise. Components the expression does not name are never read.
 *
 * @example
 * # spec: components correct, format, length (tokens)
 * combine: {type: formula, expression: "correct * (1 + 0.2 * format) - 0.001 * max(length - 500, 0)"}
 * # correct = 1, format = 1, length = 700 → 1 · 1.2 - 0.001 · 200 = 1.0
 */
export const formulaCombiner = defineCombiner({
  type: 'formula',
  summary: 'Arithmetic expression over component names (+ - * / ^, min max abs floor ceil exp log sqrt clip).',
  params: {
    expression: z
      .string()
      .min(1)
      .describe('Expression over component names: numbers, + - * / ^, parentheses, min max abs floor ceil exp log sqrt clip(x, lo, hi).'),
  },
  nullPolicies: ['null', 'zero'],
  create(params, ctx) {
    let root: Node;
    try {
      root = parse(params.expression) as unknown as Node;
    } catch (e) {
      reject(`cannot parse ${JSON.stringify(params.expression)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const zero = params.on_null === 'zero';
    const env: Env = { ctx, used: new Set(), zero };
    const f = compile(root, env);
    // Checked up front under `null`: Math.pow(NaN, 0) = 1 would hide a null.
    const read = zero ? new Int32Array(0) : Int32Array.from(env.used);
    return {
      combine(row) {
        for (let j = 0; j < read.length; j++) if (Number.isNaN(row[read[j]])) return NaN;
        const r = f(row);
        return Number.isFinite(r) ? r : NaN;
      },
    };
  },
});
