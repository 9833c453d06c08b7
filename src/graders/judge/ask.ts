import type { Backend, ChatMessage } from '../../backends/types.js';
import { JudgeParseError, parseAnswer, type AnswerFormat } from './parse.js';

/** Request settings shared by every call of one judge. */
export interface CallOptions {
  max_tokens: number;
  temperature: number;
  /** Extra attempts after an unusable answer. */
  parse_retries: number;
  strip_think: boolean;
  /** Sampling seed sent with every request of the call (distinct seeds make distinct, separately cached samples). */
  seed?: number;
}

/** A usable answer and how many calls it took. */
export interface JudgeAnswer<T> {
  value: T;
  /** The judge's raw answer text. */
  text: string;
  attempts: number;
}

/** The judge gave no usable answer within its attempts. Never turned into a score. */
export class JudgeAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JudgeAnswerError';
  }
}

const shorten = (s: string, n = 200) => (s.length <= n ? s : `${s.slice(0, n)}… (${s.length} chars)`);

/**
 * Asks the judge through the backend with the format's JSON schema on the request and parses the
 * answer strictly. An unusable answer is re-asked up to `parse_retries` times, the bad answer and the
 * reason shown to the judge (so the re-ask is a new request, not a cache hit of the old one); after
 * that the promise rejects with a {@link JudgeAnswerError} naming the reason and quoting the answer.
 * A backend failure rejects with the backend's own error.
 *
 * @example
 * const { value, attempts } = await askJudge(backend, messages, scoreFormat, { max_tokens: 256, temperature: 0, parse_retries: 2, strip_think: false });
 * // value → {score: 4}, attempts → 1
 */
export async function askJudge<T>(backend: Backend, messages: ChatMessage[], format: AnswerFormat<T>, opts: CallOptions): Promise<JudgeAnswer<T>> {
  let convo = messages;
  let reason = '';
  let text = '';
  const attempts = opts.parse_retries + 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const res = await backend.chat({
      messages: convo,
      max_tokens: opts.max_tokens,
      temperature: opts.temperature,
      json_schema: { name: format.name, schema: format.jsonSchema },
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    });
    text = typeof res.text === 'string' ? res.text : '';
    try {
      return { value: parseAnswer(text, format, { stripThink: opts.strip_think }), text, attempts: attempt };
    } catch (e) {
      if (!(e instanceof JudgeParseError)) throw e;
      reason = res.finish_reason === 'length' ? `${e.message} (the answer hit max_tokens)` : e.message;
    }
    convo = [
      ...messages,
      { role: 'assistant', content: text },
      // The attempt number keeps every re-ask a distinct request, so a repeated bad answer is never
      // replayed from the response cache instead of asking the judge again.
      { role: 'user', content: `Your previous answer (attempt ${attempt} of ${attempts}) could not be used: ${reason}. Reply again with only the JSON object the instructions describe, and no other text.` },
    ];
  }
  throw new JudgeAnswerError(`judge gave no usable answer in ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}; last answer: ${JSON.stringify(shorten(text))}`);
}
