import type { ChatMessage } from '../../backends/types.js';
import type { Sample } from '../../rollout/types.js';
import { fenceBlock, fenceNotice, fenceTag, type FencedPart } from './fence.js';
import { renderTemplate, type Template } from './template.js';

/** What a placeholder stands for: text written by the spec's author (sent as is) or data (fenced). */
export type SlotValue = string | { data: FencedPart[] };

/** Everything one judge call is made of. */
export interface CallParts {
  /** The mode's (or the spec's) system message. */
  system: string;
  /** Appended to the system message after the fence notice: the answer format, when the call has one. */
  instruction?: string;
  template: Template;
  /** The value of each placeholder; undefined = the rollout lacks it (the rollout is not judged). */
  slot: (name: string) => SlotValue | undefined;
  /** Data and text added to the user message after the template (the reasoning of `think_then_score`). */
  after?: { data: FencedPart[]; text: string };
}

/**
 * The chat messages of one judge call, or the first placeholder the rollout cannot fill. Every data
 * value is fenced with the call's tag (see `fence.ts`), and the system message says what the fences
 * mean.
 *
 * @example
 * judgeMessages({ system: 'You grade answers.', template: compileTemplate('{{completion}}', ['completion'], 't'),
 *   slot: () => ({ data: [{ label: 'completion', text: '42' }] }) })
 * // → [{role: 'system', content: 'You grade answers.\n\nParts of the user message …'},
 * //    {role: 'user', content: '<<<BEGIN … completion>>>\n42\n<<<END … completion>>>'}]
 */
export function judgeMessages(parts: CallParts): ChatMessage[] | { missing: string } {
  const values = new Map<string, SlotValue>();
  const fenced: string[] = [];
  for (const name of parts.template.slots) {
    const v = parts.slot(name);
    if (v === undefined) return { missing: name };
    values.set(name, v);
    if (typeof v !== 'string') for (const d of v.data) fenced.push(d.text);
  }
  for (const d of parts.after?.data ?? []) fenced.push(d.text);
  const tag = fenceTag(fenced);
  const blocks = (data: FencedPart[]) => data.map((d) => fenceBlock(tag, d)).join('\n\n');
  let user = renderTemplate(parts.template, (name) => {
    const v = values.get(name)!;
    return typeof v === 'string' ? v : blocks(v.data);
  });
  if (parts.after) user += `\n\n${blocks(parts.after.data)}\n\n${parts.after.text}`;
  const system = [parts.system.trim(), fenceNotice(tag), parts.instruction?.trim()].filter((s) => s).join('\n\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** One turn of a judge conversation: its role and its template. */
export interface ConversationTurn {
  role: 'user' | 'assistant';
  template: Template;
}

/**
 * The chat messages of a call made of several turns (the `messages` of score and label modes): the
 * system message (`system`, the fence notice, the answer format), then each turn in order with its
 * placeholders filled. One fence tag covers every fenced value of every turn. Returns the first
 * placeholder the rollout cannot fill instead, when one is missing.
 *
 * @example
 * judgeConversation({ system: 'Grade it.', turns: [{ role: 'user', template: compileTemplate('{{completion}}', ['completion'], 't') }],
 *   slot: () => ({ data: [{ label: 'completion', text: '42' }] }) })
 * // → [{role: 'system', content: 'Grade it.\n\nParts of the user message …'}, {role: 'user', content: '<<<BEGIN … completion>>>\n42\n<<<END … completion>>>'}]
 */
export function judgeConversation(parts: { system: string; instruction?: string; turns: readonly ConversationTurn[]; slot: (name: string) => SlotValue | undefined }): ChatMessage[] | { missing: string } {
  const values = new Map<string, SlotValue>();
  const fenced: string[] = [];
  for (const turn of parts.turns)
    for (const name of turn.template.slots) {
      if (values.has(name)) continue;
      const v = parts.slot(name);
      if (v === undefined) return { missing: name };
      values.set(name, v);
      if (typeof v !== 'string') for (const d of v.data) fenced.push(d.text);
    }
  const tag = fenceTag(fenced);
  const fill = (name: string) => {
    const v = values.get(name)!;
    return typeof v === 'string' ? v : v.data.map((d) => fenceBlock(tag, d)).join('\n\n');
  };
  const system = [parts.system.trim(), fenceNotice(tag), parts.instruction?.trim()].filter((s) => s).join('\n\n');
  return [{ role: 'system', content: system }, ...parts.turns.map((t) => ({ role: t.role, content: renderTemplate(t.template, fill) }))];
}

function lookup(meta: Readonly<Record<string, unknown>>, path: string): unknown {
  let v: unknown = meta;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Text of a JSON value for the judge: strings as they are, anything else as JSON; null and undefined → undefined.
 *
 * @example
 * valueText(['3', '3.0']) // → '["3","3.0"]'
 */
export function valueText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The rollout-side placeholders of one sample: `prompt`, `completion`, `reference` and `meta.<key>`,
 * all fenced as data, plus `extra` (the mode's own placeholders). A rollout without a prompt, a
 * reference or the meta key gives undefined for that placeholder.
 *
 * @example
 * sampleSlots(sample, { rubric: '1. Cites a source' })('meta.topic') // → {data: [{label: 'meta.topic', text: 'biology'}]}
 */
export function sampleSlots(s: Sample, extra: Readonly<Record<string, SlotValue>> = {}): (name: string) => SlotValue | undefined {
  return (name) => {
    if (Object.hasOwn(extra, name)) return extra[name];
    let text: string | undefined;
    if (name === 'prompt') text = s.rollout.prompt === undefined ? undefined : s.prompt;
    else if (name === 'completion') text = s.completion;
    else if (name === 'reference') text = valueText(s.reference);
    else if (name.startsWith('meta.')) text = valueText(lookup(s.meta, name.slice(5)));
    return text === undefined ? undefined : { data: [{ label: name, text }] };
  };
}

/**
 * Why a rollout could not be judged, for `details.reason`.
 *
 * @example
 * missingReason('reference') // → 'rollout has no reference'
 */
export function missingReason(slot: string): string {
  return `rollout has no ${slot}`;
}
