import * as z from 'zod';

/** The judge's answer could not be used: not JSON, extra text, a missing item, a value out of range … */
export class JudgeParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JudgeParseError';
  }
}

/**
 * What one judge call must answer: a zod schema (sent to the backend as `json_schema` and checked on
 * the answer), a check the schema cannot express (every rubric item once, a ranking that agrees with
 * the scores), and the instruction that tells the judge the format in words.
 */
export interface AnswerFormat<T> {
  /** `json_schema.name` on the chat request. */
  readonly name: string;
  readonly schema: z.ZodType<T>;
  /** JSON Schema of `schema`, built once. */
  readonly jsonSchema: Record<string, unknown>;
  /** One or two sentences for the system message: "Reply with only a JSON object …". */
  readonly instruction: string;
  /** Returns why a schema-valid answer is still unusable, or null. */
  readonly check?: (value: T) => string | null;
}

/**
 * Builds an {@link AnswerFormat}; its JSON Schema comes from the zod schema, so what the backend is
 * asked to produce and what the parser accepts cannot drift apart.
 *
 * @example
 * const f = answerFormat('scale_score', z.strictObject({ score: z.number().int().min(1).max(5) }), 'Reply with only {"score": <1-5>}.');
 * f.jsonSchema // → {type: 'object', properties: {score: {type: 'integer', minimum: 1, maximum: 5}}, required: ['score'], additionalProperties: false}
 */
export function answerFormat<T>(name: string, schema: z.ZodType<T>, instruction: string, check?: (value: T) => string | null): AnswerFormat<T> {
  const { $schema: _drop, ...jsonSchema } = z.toJSONSchema(schema) as Record<string, unknown>;
  return { name, schema, jsonSchema, instruction, check };
}

const LEADING_THINK = /^<think>[\s\S]*?<\/think>/;

function issueText(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(answer)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parses the judge's answer strictly: the whole answer (surrounding whitespace aside) must be one JSON
 * value that the format's schema accepts and its check passes. Prose, text around the JSON, markdown
 * code fences, missing or extra keys, out-of-range numbers all throw {@link JudgeParseError}. With
 * `stripThink`, one leading `<think>…</think>` block (reasoning models served without a reasoning
 * parser) is dropped first.
 *
 * @example
 * parseAnswer('{"score": 4}', f) // → {score: 4}
 * parseAnswer('The score is 4.', f) // throws JudgeParseError('not JSON: …')
 * parseAnswer('{"score": 9}', f) // throws JudgeParseError('score: Too big: expected number to be <=5')
 */
export function parseAnswer<T>(text: string, format: AnswerFormat<T>, opts: { stripThink?: boolean } = {}): T {
  let body = text.trim();
  if (opts.stripThink) body = body.replace(LEADING_THINK, '').trim();
  if (body === '') throw new JudgeParseError('empty answer');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new JudgeParseError(`not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const r = format.schema.safeParse(json);
  if (!r.success) throw new JudgeParseError(issueText(r.error.issues));
  const why = format.check?.(r.data);
  if (why) throw new JudgeParseError(why);
  return r.data;
}
