import type { ChatMessage, Rollout, Sample, Step } from './types.js';
import { toSample } from './sample.js';

/** The message a step contributes to the conversation: its role (default `assistant`), content and tool calls. */
function stepMessage(step: Step): ChatMessage {
  const m: ChatMessage = { role: typeof step.role === 'string' ? step.role : 'assistant', content: contentOf(step.content) };
  if (Array.isArray(step.tool_calls)) m.tool_calls = step.tool_calls;
  return m;
}

function contentOf(c: unknown): ChatMessage['content'] {
  if (typeof c === 'string' || c === null || Array.isArray(c)) return c as ChatMessage['content'];
  return c === undefined ? '' : JSON.stringify(c);
}

function promptMessages(prompt: Rollout['prompt']): ChatMessage[] {
  if (prompt === undefined) return [];
  return typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
}

/**
 * What a step-scoped grader (`scope: step`) sees for step `j` of a rollout: a rollout whose prompt is
 * the conversation so far (the rollout's prompt, then every earlier step and its observation as a
 * `tool` message) and whose completion is the step itself as one message. `reference` is the step's
 * own `reference` when it has one, else the rollout's; `meta` is the rollout's plus `step` (the index)
 * and the step's `meta`. The id is `<rollout id>#<j>`; the group is the rollout's.
 *
 * @example
 * const r = { id: 'a', prompt: 'Find x', completion: '', steps: [{ content: 'search(x)', observation: '3' }, { content: 'x = 3' }] };
 * stepSamples(r)[1].prompt     // → 'Find x\n\nsearch(x)\n\n3'
 * stepSamples(r)[1].completion // → 'x = 3'
 */
export function stepSamples(r: Rollout): Sample[] {
  const steps = Array.isArray(r.steps) ? r.steps : [];
  const out: Sample[] = [];
  const history = promptMessages(r.prompt).slice();
  const group = toSample(r).group;
  for (let j = 0; j < steps.length; j++) {
    const step = steps[j]!;
    const stepRollout: Rollout = {
      id: `${r.id}#${j}`,
      group,
      prompt: history.slice(),
      completion: [stepMessage(step)],
      reference: step.reference !== undefined ? step.reference : r.reference,
      meta: { ...(r.meta ?? {}), step: j, ...(isRecord(step.meta) ? step.meta : {}) },
    };
    out.push(toSample(stepRollout));
    history.push(stepMessage(step));
    if (step.observation !== undefined && step.observation !== null) history.push({ role: 'tool', content: contentOf(step.observation) });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
