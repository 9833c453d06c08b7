import type { ChatMessage, Rollout, Sample } from './types.js';

function messageText(m: ChatMessage): string {
  const c = m.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/**
 * Plain text of a prompt or completion. Chat completions give their assistant messages' text joined
 * by a blank line (all messages when none is from the assistant); chat prompts give every message.
 */
export function textOf(value: string | ChatMessage[] | undefined, kind: 'prompt' | 'completion'): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  const msgs = kind === 'completion' ? value.filter((m) => m.role === 'assistant') : value;
  return (msgs.length > 0 ? msgs : value).map(messageText).join('\n\n');
}

/** Group key of a rollout: its `group`, else its prompt text (one group per distinct prompt). */
export function groupKey(r: Rollout, promptText: string): string {
  return r.group ?? `prompt:${promptText}`;
}

const EMPTY_META: Readonly<Record<string, unknown>> = Object.freeze({});

/** Builds the grader's view of a validated rollout. */
export function toSample(r: Rollout): Sample {
  const prompt = textOf(r.prompt, 'prompt');
  return {
    rollout: r,
    id: r.id,
    group: groupKey(r, prompt),
    completion: textOf(r.completion, 'completion'),
    prompt,
    reference: r.reference,
    meta: r.meta ?? EMPTY_META,
  };
}
