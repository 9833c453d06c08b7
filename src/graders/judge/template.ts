import { ParamError } from '../types.js';

/** A literal run of text or a placeholder (`prompt`, `completion`, `meta.topic` …). */
export type TemplatePart = { literal: string } | { slot: string };

/** A template split once, when the grader is built, into literal text and placeholders. */
export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** The placeholders it uses, each once. */
  readonly slots: ReadonlySet<string>;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const META_PATH = /^meta\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Splits `text` into literals and `{{placeholder}}`s (spaces inside the braces allowed). A placeholder
 * must be one of `allowed`, or `meta.<key>` (dotted paths reach nested keys) when `allowed` lists
 * `meta`; anything else is a {@link ParamError} on `param` naming the placeholders the mode offers.
 *
 * @example
 * compileTemplate('Q: {{prompt}}\nA: {{ completion }}', ['prompt', 'completion'], 'template').slots
 * // → Set {'prompt', 'completion'}
 * compileTemplate('{{answer}}', ['prompt'], 'template') // throws ParamError('template', 'unknown placeholder {{answer}} …')
 */
export function compileTemplate(text: string, allowed: readonly string[], param: string): Template {
  const parts: TemplatePart[] = [];
  const slots = new Set<string>();
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1]!.trim();
    const known = allowed.includes(name) && name !== 'meta';
    if (!known && !(allowed.includes('meta') && META_PATH.test(name))) {
      const offered = allowed.map((a) => (a === 'meta' ? '{{meta.<key>}}' : `{{${a}}}`)).join(', ');
      throw new ParamError(param, `unknown placeholder {{${name}}}; this mode offers ${offered}`);
    }
    if (m.index > last) parts.push({ literal: text.slice(last, m.index) });
    parts.push({ slot: name });
    slots.add(name);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  return { source: text, parts, slots };
}

/**
 * Throws a {@link ParamError} on `param` when the template lacks one of `required`.
 *
 * @example
 * requireSlots(compileTemplate('{{prompt}}', ['prompt', 'completion'], 'template'), ['completion'], 'template')
 * // throws ParamError('template', 'must contain {{completion}}')
 */
export function requireSlots(t: Template, required: readonly string[], param: string): void {
  const missing = required.filter((r) => !t.slots.has(r));
  if (missing.length > 0) throw new ParamError(param, `must contain ${missing.map((m) => `{{${m}}}`).join(' and ')}`);
}

/**
 * Fills the placeholders in one pass. Substituted text is never scanned again, so a value that itself
 * contains `{{completion}}` stays literal.
 *
 * @example
 * renderTemplate(compileTemplate('A: {{completion}}', ['completion'], 't'), () => '{{prompt}}') // → 'A: {{prompt}}'
 */
export function renderTemplate(t: Template, value: (slot: string) => string): string {
  let out = '';
  for (const p of t.parts) out += 'literal' in p ? p.literal : value(p.slot);
  return out;
}
