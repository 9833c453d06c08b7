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
 *   is the score). `cosine` → `embedding_similarity` (the cosine in [−1, 1]) through an openai
 *   embeddings backend `openai_embeddings` with `text-embedding-3-large`, the model OpenAI names
 *   (rewardkit trims both texts before embedding them).
 * - `text_similarity` with `fuzzy_match`, `bleu`, `gleu`, `meteor` [INF]: OpenAI names the metrics
 *   (and rapidfuzz for `fuzzy_match`) but publishes no scorer, so these follow the most widely used
 *   reference implementations, as Microsoft's Azure AI evaluation evaluators of the same grader
 *   family run them: `fuzzy_match` → `edit_distance` with `metric: indel` (rapidfuzz `fuzz.ratio`
 *   / 100); `bleu` → `nltk_bleu` (NLTK `sentence_bleu`, smoothing method 4, NLTK `word_tokenize`);
 *   `gleu` → `gleu` (NLTK `sentence_gleu`); `meteor` → `meteor` (NLTK `meteor_score`, alpha 0.9,
 *   beta 3, gamma 0.5, without the WordNet synonym stage). Texts are read whole (`normalize: {trim:
 *   false}`), case-sensitive as those implementations.
 * - `score_model` → `judge` with `mode: score` and `range` (default [0, 1]): the model's result is
 *   clamped to the range, as OpenAI truncates it; `label_model` → `judge` with `mode: label`,
 *   `labels`, `passing_labels` (1 when the model's label is a passing one, else 0). Both go through an
 *   openai backend (`openai`, then `openai_<model>` for further models) at api.openai.com with the
 *   key from $OPENAI_API_KEY. `input` messages: `system`/`developer` → the judge's `system` (joined in
 *   order; they may hold no template variables — data is fenced, and only in user messages),
 *   `user`/`assistant` → `messages` in order; text content items (`input_text`, `output_text`, or a
 *   list of them, joined by newlines) only. Templates: `{{ sample.output_text }}` → `{{completion}}`,
 *   `{{ item.FIELD }}` → `{{reference}}` when a string_check/text_similarity sub-grader made FIELD the
 *   reference, else `{{meta.FIELD}}`. `sampling_params`: `temperature`, `seed` → `sampling_seed`,
 *   `max_completion_tokens` → `max_tokens`, `top_p: 1`. Where OpenAI scores a non-numeric answer 0,
 *   rewardkit's judge re-asks and then records an error (null): an unusable answer never pays.
 *
 * What does not convert (an error naming the grader and the field): image or audio content, other
 * roles, template variables in system/developer messages or other than `sample.output_text` / `item.*`,
 * `top_p` other than 1 and `reasoning_effort`, a multi inside a multi, templates other than
 * `{{ sample.output_text }}` as a string grader's input or a literal reference, and references to
 * more than one `item` field (a rollout has one `reference`).
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
  /** Backends the converted graders need, by name. */
  backends: Map<string, Json>;
  /** Item fields model graders read from the rollout's meta. */
  metaFields: Set<string>;
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** The name of the openai backend serving `model` (`openai` for the first model, `openai_<model>` for others), added to the spec's backends. */
function backendFor(ctx: Ctx, model: string): string {
  for (const [name, b] of ctx.backends) if (b.model === model) return name;
  const name = [...ctx.backends.keys()].some((n) => n === 'openai') ? `openai_${model.replace(/[^A-Za-z0-9_-]/g, '_')}` : 'openai';
  ctx.backends.set(name, { type: 'openai', base_url: OPENAI_BASE_URL, model, api_key_env: 'OPENAI_API_KEY' });
  return name;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/**
 * An OpenAI template (`{{ sample.output_text }}`, `{{ item.FIELD }}`) as a judge template:
 * the output text → `{{completion}}`, the reference's item field → `{{reference}}`, any other item
 * field → `{{meta.FIELD}}`. Other variables (sample.output_json, sample.output_tools, …) cannot be
 * converted.
 */
function judgeTemplate(text: string, where: string, field: string, ctx: Ctx): string {
  return text.replace(PLACEHOLDER, (_m, inner: string) => {
    const v = inner.trim();
    if (v === 'sample.output_text') return '{{completion}}';
    const item = /^item\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$/.exec(v);
    if (item) {
      if (item[1] === ctx.itemField) return '{{reference}}';
      ctx.metaFields.add(item[1]!);
      return `{{meta.${item[1]}}}`;
    }
    throw new ImportError(
      where,
      field,
      `cannot convert the template variable {{ ${v} }}: a rollout offers the output text ({{ sample.output_text }}) and item fields ({{ item.FIELD }}, read from the rollout's reference or meta)`,
    );
  });
}

/** The text of one input message's content: a string, an input_text/output_text item, or a list of them. */
function contentText(content: unknown, where: string, field: string): string {
  const one = (c: unknown): string => {
    if (typeof c === 'string') return c;
    if (c !== null && typeof c === 'object' && !Array.isArray(c)) {
      const o = c as Json;
      if ((o.type === 'input_text' || o.type === 'output_text') && typeof o.text === 'string') return o.text;
      throw new ImportError(where, field, `cannot convert a ${JSON.stringify(o.type)} content item: rewardkit judges read text only (input_text, output_text)`);
    }
    throw new ImportError(where, field, `expected a string, a text content item or a list of them, got ${JSON.stringify(c)}`);
  };
  return Array.isArray(content) ? content.map(one).join('\n') : one(content);
}

/**
 * The judge params of a score_model / label_model `input` list: system and developer messages (no
 * template variables) → `system`, joined in order; user and assistant messages → `messages`, in order.
 */
function judgeInput(o: Json, where: string, ctx: Ctx): Json {
  const input = o.input;
  if (!Array.isArray(input) || input.length === 0) throw new ImportError(where, 'input', 'expected a non-empty list of messages {role, content}');
  const system: string[] = [];
  const messages: Json[] = [];
  input.forEach((m, i) => {
    const field = `input[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new ImportError(where, field, 'expected a message {role, content}');
    const msg = m as Json;
    if (msg.type !== undefined && msg.type !== 'message') throw new ImportError(where, `${field}.type`, `expected "message", got ${JSON.stringify(msg.type)}`);
    const text = contentText(msg.content, where, `${field}.content`);
    if (msg.role === 'system' || msg.role === 'developer') {
      if (/\{\{[^{}]*\}\}/.test(text))
        throw new ImportError(where, `${field}.content`, `cannot convert template variables in a ${msg.role} message: a rewardkit judge's system message takes no data (rollout text is fenced in user messages); move them into a user message`);
      if (text.trim() !== '') system.push(text.trim());
    } else if (msg.role === 'user' || msg.role === 'assistant') {
      if (text.trim() === '') throw new ImportError(where, `${field}.content`, 'cannot convert an empty message');
      messages.push({ role: msg.role, content: judgeTemplate(text, where, `${field}.content`, ctx) });
    } else throw new ImportError(where, `${field}.role`, `expected system, developer, user or assistant, got ${JSON.stringify(msg.role)}`);
  });
  if (!messages.some((m) => m.role === 'user')) throw new ImportError(where, 'input', 'cannot convert: no user message (rewardkit judges need one)');
  if (!messages.some((m) => String(m.content).includes('{{completion}}')))
    throw new ImportError(where, 'input', 'cannot convert: no message uses {{ sample.output_text }}, so the judge would never see the response it grades');
  return { ...(system.length > 0 ? { system: system.join('\n\n') } : {}), messages };
}

/** OpenAI `sampling_params` as judge params: temperature, seed → sampling_seed, max_completion_tokens → max_tokens. */
function samplingParams(o: Json, where: string): Json {
  const sp = o.sampling_params;
  if (sp === undefined || sp === null) return {};
  if (typeof sp !== 'object' || Array.isArray(sp)) throw new ImportError(where, 'sampling_params', 'expected an object');
  const out: Json = {};
  for (const [key, v] of Object.entries(sp as Json)) {
    const field = `sampling_params.${key}`;
    if (v === null || v === undefined) continue;
    if (key === 'temperature') {
      if (typeof v !== 'number' || !(v >= 0 && v <= 2)) throw new ImportError(where, field, `expected a number in [0, 2], got ${JSON.stringify(v)}`);
      out.temperature = v;
    } else if (key === 'seed') {
      if (!Number.isInteger(v)) throw new ImportError(where, field, `expected an integer, got ${JSON.stringify(v)}`);
      out.sampling_seed = v;
    } else if (key === 'max_completion_tokens' || key === 'max_completions_tokens') {
      if (!Number.isInteger(v) || (v as number) < 16) throw new ImportError(where, field, `expected an integer ≥ 16 (the judge's max_tokens), got ${JSON.stringify(v)}`);
      out.max_tokens = v;
    } else if (key === 'top_p') {
      if (v !== 1) throw new ImportError(where, field, `cannot convert top_p ${JSON.stringify(v)}: the judge's chat requests carry no top_p (set it on the server, or use 1)`);
    } else if (key === 'reasoning_effort')
      throw new ImportError(where, field, `cannot convert reasoning_effort ${JSON.stringify(v)}: the judge's chat requests carry no reasoning effort (pass it with the backend's extra_body by hand)`);
    else throw new ImportError(where, field, 'unknown sampling parameter (known: temperature, seed, max_completion_tokens, top_p, reasoning_effort)');
  }
  return out;
}

function stringList(o: Json, key: string, where: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== ''))
    throw new ImportError(where, key, `expected a non-empty list of non-empty strings, got ${JSON.stringify(v)}`);
  if (new Set(v).size !== v.length) throw new ImportError(where, key, 'lists a label twice');
  return v as string[];
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
      // OpenAI: cosine similarity of the two texts' text-embedding-3-large embeddings.
      if (metric === 'cosine') {
        const name = 'openai_embeddings';
        ctx.backends.set(name, { type: 'openai', base_url: OPENAI_BASE_URL, model: 'text-embedding-3-large', api_key_env: 'OPENAI_API_KEY' });
        return { component: { grader: 'embedding_similarity', backend: name } };
      }
      // [INF] OpenAI publishes no scorer for these: the reference implementations Azure AI evaluation runs.
      const inferred = (what: string) => ({ normalize: { trim: false }, description: `OpenAI text_similarity ${metric}, inferred [INF] (OpenAI publishes no scorer): ${what}.` });
      if (metric === 'fuzzy_match') return { component: { grader: 'edit_distance', metric: 'indel', ...inferred('rapidfuzz fuzz.ratio / 100') } };
      if (metric === 'bleu') return { component: { grader: 'nltk_bleu', ...inferred('NLTK sentence_bleu, smoothing method 4, word_tokenize, as Azure AI evaluation') } };
      if (metric === 'gleu') return { component: { grader: 'gleu', ...inferred('NLTK sentence_gleu, word_tokenize, as Azure AI evaluation') } };
      if (metric === 'meteor')
        return { component: { grader: 'meteor', ...inferred('NLTK meteor_score (alpha 0.9, beta 3, gamma 0.5), as Azure AI evaluation, without the WordNet synonym stage') } };
      throw new ImportError(where, 'evaluation_metric', `expected one of fuzzy_match, bleu, gleu, meteor, cosine, rouge_1 … rouge_5, rouge_l; got ${JSON.stringify(metric)}`);
    }
    case 'score_model':
    case 'label_model': {
      const model = str(o, 'model', where);
      const backend = backendFor(ctx, model);
      const input = judgeInput(o, where, ctx);
      const sampling = samplingParams(o, where);
      if (type === 'score_model') {
        let range: [number, number] = [0, 1];
        if (o.range !== undefined && o.range !== null) {
          const r = o.range;
          if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(r[0] < r[1]))
            throw new ImportError(where, 'range', `expected [min, max] with min < max, got ${JSON.stringify(r)}`);
          range = [r[0], r[1]];
        }
        if (o.pass_threshold !== undefined && o.pass_threshold !== null && typeof o.pass_threshold !== 'number')
          throw new ImportError(where, 'pass_threshold', `expected a number, got ${JSON.stringify(o.pass_threshold)}`);
        return { component: { grader: 'judge', backend, mode: 'score', range, ...input, ...sampling } };
      }
      const labels = stringList(o, 'labels', where);
      const passing = stringList(o, 'passing_labels', where);
      const stray = passing.filter((p) => !labels.includes(p));
      if (stray.length > 0) throw new ImportError(where, 'passing_labels', `must be a subset of labels; ${stray.map((p) => JSON.stringify(p)).join(', ')} is not a label`);
      return { component: { grader: 'judge', backend, mode: 'label', labels, passing_labels: passing, ...input, ...sampling } };
    }
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
  const ctx: Ctx = { backends: new Map(), metaFields: new Set() };
  const topName = typeof top.name === 'string' && top.name.trim() !== '' ? top.name : 'imported';
  let spec: Json;
  if (top.type === 'multi') {
    const graders = top.graders;
    if (graders === null || typeof graders !== 'object' || Array.isArray(graders) || Object.keys(graders).length === 0)
      throw new ImportError(topName, 'graders', 'expected an object {name: grader, …} with at least one grader');
    const components: Json[] = [];
    const reads = new Map<string, string>();
    // Model graders after the others: their {{ item.FIELD }} is the rollout's reference when a
    // string_check or text_similarity sub-grader made FIELD the reference, else meta.FIELD.
    const isModel = (g: unknown) => g !== null && typeof g === 'object' && ['score_model', 'label_model'].includes(String((g as Json).type));
    const entries = Object.entries(graders as Json);
    const converted = new Map<string, Converted>();
    for (const [key, g] of [...entries.filter(([, g]) => !isModel(g)), ...entries.filter(([, g]) => isModel(g))]) {
      const where = `${topName}.graders.${key}`;
      if (!IDENT.test(key)) throw new ImportError(where, 'graders', `cannot convert the name ${JSON.stringify(key)}: component names are identifiers (letters, digits, _)`);
      converted.set(key, convertOne(g, where, ctx));
    }
    for (const [key] of entries) {
      const where = `${topName}.graders.${key}`;
      const c = converted.get(key)!;
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
  let note = ctx.itemField !== undefined ? ` item.${ctx.itemField} is each rollout's \`reference\`.` : '';
  if (ctx.metaFields.size > 0) note += ` ${[...ctx.metaFields].map((f) => `item.${f}`).join(', ')} ${ctx.metaFields.size === 1 ? 'is' : 'are'} read from each rollout's \`meta\`.`;
  if (ctx.backends.size > 0) note += ' The openai backends read the API key from $OPENAI_API_KEY.';
  const backends = ctx.backends.size > 0 ? { backends: Object.fromEntries(ctx.backends) } : {};
  return { name: spec.name, description: `Imported from an OpenAI grader definition.${note}`, ...backends, ...spec };
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
