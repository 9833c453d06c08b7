import * as z from 'zod';
import { functionBackend, resolverOf } from '../../backends/fake.js';
import type { Backend, ChatRequest, ChatResponse } from '../../backends/types.js';
import type { Grader } from '../types.js';
import { judgeGrader } from './index.js';

/** A scripted judge for tests: answers each chat request with `answer(request, callIndex)` and records the requests. */
export interface ScriptedJudge {
  backend: Backend;
  requests: ChatRequest[];
}

/**
 * A {@link Backend} named `judge` whose chat answers come from `answer` (a string, or a full
 * response); every request is kept in `requests`, in call order.
 *
 * @example
 * const j = scriptedJudge(() => '{"score": 4}');
 * await j.backend.chat({ messages: [] }); j.requests.length // → 1
 */
export function scriptedJudge(answer: (req: ChatRequest, call: number) => string | ChatResponse | Promise<string | ChatResponse>, name = 'judge'): ScriptedJudge {
  const requests: ChatRequest[] = [];
  const backend = functionBackend(name, {
    chat: async (req) => {
      requests.push(req);
      const a = await answer(req, requests.length - 1);
      return typeof a === 'string' ? { text: a, finish_reason: 'stop' } : a;
    },
  });
  return { backend, requests };
}

/**
 * Builds a `judge` grader from raw params as the spec loader would (unknown keys rejected), with
 * `backends` as the spec's backends.
 *
 * @example
 * const g = judge({ backend: 'judge', mode: 'scale' }, [scriptedJudge(() => '{"score": 5}').backend]);
 */
export function judge(params: Record<string, unknown>, backends: readonly Backend[] | undefined): Grader {
  const parsed = z.strictObject(judgeGrader.params).parse(params);
  return judgeGrader.create(parsed, { specDir: process.cwd(), name: 'quality', backends: backends && resolverOf(backends) });
}

/** The fence tag announced in a request's system message. */
export function tagOf(req: ChatRequest): string {
  const m = /<<<BEGIN ([0-9a-f]{32}) name>>>/.exec(req.messages[0]!.content);
  if (!m) throw new Error('no fence notice in the system message');
  return m[1]!;
}

/**
 * The fenced parts of a request's first user message (the one a re-ask repeats), as the judge would
 * read them with the real tag: label → text, in order of appearance.
 *
 * @example
 * fencedParts(req).get('completion') // → the completion exactly as the rollout wrote it
 */
export function fencedParts(req: ChatRequest): Map<string, string> {
  const tag = tagOf(req);
  const user = req.messages.find((m) => m.role === 'user')!.content;
  const out = new Map<string, string>();
  const begin = `<<<BEGIN ${tag} `;
  let at = 0;
  for (;;) {
    const b = user.indexOf(begin, at);
    if (b < 0) return out;
    const labelEnd = user.indexOf('>>>\n', b);
    const label = user.slice(b + begin.length, labelEnd);
    const close = `\n<<<END ${tag} ${label}>>>`;
    const e = user.indexOf(close, labelEnd);
    out.set(label, user.slice(labelEnd + 4, e));
    at = e + close.length;
  }
}
