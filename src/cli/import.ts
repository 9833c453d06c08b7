import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/**
 * `rewardkit spec import FILE.json [--out spec.yaml]`: converts an OpenAI grader definition (the
 * JSON of the fine-tuning / evals graders API) into a rewardkit spec.
 *
 * What converts, and onto what (semantics as OpenAI documents them):
 * - `string_check` (`ne` is held as an `eq` component named `<name>_eq`, read `1 − <name>_eq` by the formula) — `input` must be `{{ sample.output_text }}` (the completion, read whole: no
 *   answer region, no trimming); `reference` must be `{{ item.FIELD }}`, the rollout's `reference`.
 *   `eq` → `exact` (1 when equal, else 0), `ne` → the same component read as `1 − eq` in the
 *   formula, `like` → `contains` (the reference occurs in the output, case-sensitive), `ilike` →
 *   `contains` with `case: lower` (case-insensitive).
 * - `python` → `grader: python` with the same `source` (OpenAI's `grade(sample, item)` contract).
 * - `multi` → one component per sub-grader (named by its key in `graders`) and `calculate_output`
 *   → `combine: {type: formula, expression}` (same operators: + − * / ^, min, max, abs, floor, ceil,
 *   exp, sqrt, log).
 *
 * - `text_similarity` with `rouge_l` → `rouge_l`, `rouge_1` … `rouge_5` → `rouge_n` with `n: 1` … `5`
 *   (rouge-score's F-measure, its tokeniser, no stemmer — the package OpenAI's ROUGE is computed
 *   with), same `input`/`reference` rules as `string_check`; `pass_threshold` is dropped (the reward
 *   is the score).
 *
 * What does not convert (an error naming the grader and the field): `text_similarity` with
 * `fuzzy_match`, `bleu`, `gleu`, `meteor` or `cosine` (rewardkit has no metric computed exactly as
 * OpenAI's: its fuzzy_match is rapidfuzz's WRatio, its BLEU/GLEU/METEOR NLTK's, its cosine an OpenAI
 * embedding model), `score_model` and
 * `label_model` (not yet: they need a judge prompt and an openai backend written by hand), a
 * multi inside a multi, templates other than `{{ sample.output_text }}` as input or a literal
 * reference, and references to more than one `item` field (a rollout has one `reference`).
 *
 * The null rule of the converted spec is rewardkit's: a rollout without a reference scores null on
 * `exact`/`contains` (cannot judge) where OpenAI would compare with an empty string.
 */

/** An error of the conversion: `grader` is the path of the grader (`multi.graders.name`), `field` the key. */
export class ImportError extends Error {
  constructor(
    readonly grader: string,
    readonly field: string,
    message: string,
  ) {
    super(`grader ${grader}: ${field}: ${message}`);
    this.name = 'ImportError';
  }
}

type Json = Record<string, unknown>;

const SAMPLE_OUTPUT = /^\s*\{\{\s*sample\.output_text\s*\}\}\s*$/;
const ITEM_FIELD = /^\s*\{\{\s*item\.([A-Za-z0-9_.]+)\s*\}\}\s*$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Ctx {
  /** The item field that is the rollout's reference (the first one seen). */
  itemField?: string;
}

function str(g: Json, key: string, where: string): string {
  const v = g[key];
  if (typeof v !== 'string') throw new ImportError(where, key, `expected a string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return v;
}

function checkInput(g: Json, where: string): void {
  const input = str(g, 'input', where);
  if (!SAMPLE_OUTPUT.test(input))
    throw new ImportError(where, 'input', `cannot convert ${JSON.stringify(input)}: rewardkit graders read the completion; only "{{ sample.output_text }}" maps onto it`);
}

function checkReference(g: Json, where: string, ctx: Ctx): string {
  const ref = str(g, 'reference', where);
  const m = ITEM_FIELD.exec(ref);
  if (!m)
    throw new ImportError(
      where,
      'reference',
      `cannot convert ${JSON.stringify(ref)}: the reference must be one item field, "{{ item.FIELD }}" (it becomes the rollout's reference); a literal or mixed text has no place in a rollout`,
    );
  const field = m[1]!;
  if (ctx.itemField !== undefined && ctx.itemField !== field)
    throw new ImportError(where, 'reference', `cannot convert: uses item.${field} while another grader uses item.${ctx.itemField}; a rollout has one reference`);
  ctx.itemField = field;
  return field;
}

/** One converted grader: the component (without its name) and how the formula reads it. */
interface Converted {
  component: Json;
  /**
   * For `ne`: the component holds `eq` and is named `<name>_eq` (its value would mislead under the
   * sub-grader's own name); the formula reads `(1 - <name>_eq)`.
   */
  negated?: boolean;
}

function convertOne(g: unknown, where: string, ctx: Ctx): Converted {
  if (g === null || typeof g !== 'object' || Array.isArray(g)) throw new ImportError(where, 'type', 'expected a grader object');
  const o = g as Json;
  const type = o.type;
  switch (type) {
    case 'string_check': {
      checkInput(o, where);
      checkReference(o, where, ctx);
      const op = o.operation;
      const raw = { answer: 'whole', normalize: { trim: false } };
      if (op === 'eq') return { component: { grader: 'exact', ...raw } };
      if (op === 'ne') return { component: { grader: 'exact', ...raw, description: 'OpenAI string_check ne, held as eq: the formula reads 1 minus this.' }, negated: true };
      if (op === 'like') return { component: { grader: 'contains', ...raw } };
      if (op === 'ilike') return { component: { grader: 'contains', answer: 'whole', normalize: { trim: false, case: 'lower' } } };
      throw new ImportError(where, 'operation', `expected eq, ne, like or ilike, got ${JSON.stringify(op)}`);
    }
    case 'python': {
      const source = str(o, 'source', where);
      if (o.image_tag !== undefined && o.image_tag !== null)
        throw new ImportError(where, 'image_tag', `cannot convert ${JSON.stringify(o.image_tag)}: rewardkit runs python graders with the interpreter configured on the component, not an OpenAI image`);
      return { component: { grader: 'python', source } };
    }
    case 'text_similarity': {
      const metric = o.evaluation_metric;
      checkInput(o, where);
      checkReference(o, where, ctx);
      // rouge-score's rougeL / rouge1…rouge5 F-measure (no stemmer), read on the whole completion.
      if (metric === 'rouge_l') return { component: { grader: 'rouge_l' } };
      const rouge = typeof metric === 'string' ? /^rouge_([1-5])$/.exec(metric) : null;
      if (rouge) return { component: { grader: 'rouge_n', n: Number(rouge[1]) } };
      if (metric === 'fuzzy_match' || metric === 'bleu' || metric === 'gleu' || metric === 'meteor' || metric === 'cosine')
        throw new ImportError(
          where,
          'evaluation_metric',
          `cannot convert ${JSON.stringify(metric)}: rewardkit has no metric computed exactly as OpenAI's (fuzzy_match = rapidfuzz WRatio, bleu/gleu/meteor = NLTK, cosine = an OpenAI embedding model); pick a rewardkit grader (bleu, chrf, edit_distance, embedding_similarity) by hand`,
        );
      throw new ImportError(where, 'evaluation_metric', `expected one of fuzzy_match, bleu, gleu, meteor, cosine, rouge_1 … rouge_5, rouge_l; got ${JSON.stringify(metric)}`);
    }
    case 'score_model':
    case 'label_model':
      throw new ImportError(where, 'type', `cannot convert ${type} yet: write a \`judge\` component with an openai backend by hand (see the judge README)`);
    case 'multi':
      throw new ImportError(where, 'type', 'cannot convert a multi grader inside a multi grader: flatten it into one calculate_output');
    default:
      throw new ImportError(where, 'type', `unknown grader type ${JSON.stringify(type)} (known: string_check, text_similarity, python, score_model, label_model, multi)`);
  }
}

/** Replaces each sub-grader name in `expr` (as a whole identifier) by its formula reading. */
function rewrite(expr: string, reads: Map<string, string>): string {
  return expr.replace(/[A-Za-z_][A-Za-z0-9_]*/g, (id) => reads.get(id) ?? id);
}

/**
 * Converts an OpenAI grader definition (parsed JSON) into a rewardkit spec object. Throws
 * {@link ImportError} naming the grader and the field it cannot convert.
 *
 * @example
 * convertOpenAIGrader({ type: 'string_check', name: 'match', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', operation: 'eq' })
 * // → {name: 'match', components: [{name: 'match', grader: 'exact', answer: 'whole', normalize: {trim: false}}], …}
 */
export function convertOpenAIGrader(def: unknown): Json {
  if (def === null || typeof def !== 'object' || Array.isArray(def)) throw new ImportError('(top)', 'type', 'expected a grader object');
  const top = def as Json;
  const ctx: Ctx = {};
  const topName = typeof top.name === 'string' && top.name.trim() !== '' ? top.name : 'imported';
  let spec: Json;
  if (top.type === 'multi') {
    const graders = top.graders;
    if (graders === null || typeof graders !== 'object' || Array.isArray(graders) || Object.keys(graders).length === 0)
      throw new ImportError(topName, 'graders', 'expected an object {name: grader, …} with at least one grader');
    const components: Json[] = [];
    const reads = new Map<string, string>();
    for (const [key, g] of Object.entries(graders as Json)) {
      const where = `${topName}.graders.${key}`;
      if (!IDENT.test(key)) throw new ImportError(where, 'graders', `cannot convert the name ${JSON.stringify(key)}: component names are identifiers (letters, digits, _)`);
      const c = convertOne(g, where, ctx);
      const name = c.negated ? `${key}_eq` : key;
      if (c.negated && Object.prototype.hasOwnProperty.call(graders, name))
        throw new ImportError(where, 'graders', `cannot convert: the ne grader is held as "${name}", which is also the name of another sub-grader`);
      components.push({ name, ...c.component });
      reads.set(key, c.negated ? `(1 - ${name})` : key);
    }
    const expr = str(top, 'calculate_output', topName);
    for (const id of expr.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])
      if (!reads.has(id) && !['min', 'max', 'abs', 'floor', 'ceil', 'exp', 'sqrt', 'log'].includes(id))
        throw new ImportError(topName, 'calculate_output', `names "${id}", which is neither a sub-grader (${[...reads.keys()].join(', ')}) nor a function`);
    spec = { name: topName, components, combine: { type: 'formula', expression: rewrite(expr, reads) } };
  } else {
    const name = IDENT.test(topName) ? topName : 'score';
    const c = convertOne(top, topName, ctx);
    const held = c.negated ? `${name}_eq` : name;
    spec = { name: topName, components: [{ name: held, ...c.component }], ...(c.negated ? { combine: { type: 'formula', expression: `1 - ${held}` } } : {}) };
  }
  const note = ctx.itemField !== undefined ? ` item.${ctx.itemField} is each rollout's \`reference\`.` : '';
  return { name: spec.name, description: `Imported from an OpenAI grader definition.${note}`, ...spec };
}

/**
 * `rewardkit spec import FILE.json [--out spec.yaml]`: prints (or writes) the converted spec as
 * YAML. Exit 0 on success, 1 when the definition cannot be converted (the error names grader and
 * field), 2 when the file cannot be read or is not JSON.
 */
export function runSpecImport(
  file: string,
  opts: { out?: string } = {},
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
): number {
  let def: unknown;
  try {
    def = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    err(`error: ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  // Fine-tuning job JSON wraps the grader: {"grader": {...}} is accepted too.
  if (def !== null && typeof def === 'object' && !Array.isArray(def) && !('type' in def) && 'grader' in def) def = (def as Json).grader;
  let spec: Json;
  try {
    spec = convertOpenAIGrader(def);
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    err(`error: ${file}: ${e.message}`);
    return 1;
  }
  const text = stringify(spec, { lineWidth: 0 });
  if (opts.out !== undefined) {
    writeFileSync(opts.out, text);
    err(`wrote ${opts.out}`);
  } else out(text);
  return 0;
}
