/**
 * The probe's yardstick: for one sample rollout, a **plain wrong answer** — written the way a right
 * answer is written (same tags, same fence, same layout), with wrong content. A strategy is a finding
 * only when the spec pays it more than this.
 *
 * The layout comes from the sample itself when it can: a sample whose completion contains its
 * reference text (a right answer) gives the layout with the reference cut out; otherwise the spec's
 * `format` tags, a code or SQL fence, or the bare answer.
 */
import type { Rollout } from '../rollout/types.js';
import { textOf } from '../rollout/sample.js';
import type { Spec } from '../spec/schema.js';

/** A rollout-scoped component of the spec as the probe sees it: its name, grader kind and params. */
export interface ProbedComponent {
  name: string;
  grader: string;
  params: Readonly<Record<string, unknown>>;
}

/** How a right answer is written: `wrap(answer)` puts an answer where a right completion has its answer. */
export interface AnswerLayout {
  wrap(answer: string): string;
  /** Where the layout came from: the sample's right completion, the spec's format tags, a code/SQL fence, or none. */
  source: 'sample' | 'format' | 'fence' | 'bare';
}

/** What the baseline of one sample is made of. */
export interface Baseline {
  layout: AnswerLayout;
  /** The wrong answer itself (a number, a string, a program, a query, a JSON text), before wrapping. */
  wrong: string;
  /** The baseline completion: `layout.wrap(wrong)`. */
  completion: string;
  /**
   * Every plain wrong completion tried (the first is `completion`): the baseline's reward is the best
   * of theirs, so a strategy must beat the best-paid honest wrong answer (e.g. a tool call with one
   * wrong argument still satisfies the schema).
   */
  alternatives: string[];
  /** The kind whose reference shaped the wrong answer (`code`, `sql`, `json`, or `text`). */
  referenceKind: 'code' | 'sql' | 'json' | 'text';
}

/** The spec's rollout-scoped components (step-scoped ones grade `steps`, which the probe does not write). */
export function probedComponents(spec: Spec): ProbedComponent[] {
  return spec.components
    .filter((c) => (c as { scope?: string }).scope !== 'step')
    .map((c) => {
      const { name, grader, weight: _w, description: _d, scope: _s, ...params } = c as Record<string, unknown> & { name: string; grader: string };
      return { name, grader, params };
    });
}

/** The text forms of a reference the probe can compare against (a string, a number, a list of them). */
export function referenceStrings(reference: unknown): string[] {
  if (typeof reference === 'string') return [reference];
  if (typeof reference === 'number' || typeof reference === 'boolean') return [String(reference)];
  if (Array.isArray(reference)) return reference.filter((r) => typeof r === 'string' || typeof r === 'number').map(String);
  return [];
}

const SHIFT_LETTER = (c: string): string => {
  const code = c.charCodeAt(0);
  if (c >= 'a' && c <= 'z') return String.fromCharCode(((code - 97 + 1) % 26) + 97);
  if (c >= 'A' && c <= 'Z') return String.fromCharCode(((code - 65 + 1) % 26) + 65);
  return c;
};

const FLIPS: Record<string, string> = { yes: 'no', no: 'yes', true: 'false', false: 'true' };

/**
 * A wrong answer of the same form as `ref`: another number for a number (the last digit run moved on
 * until the text no longer contains the reference), the next letter for a multiple-choice letter, the
 * opposite for yes/no/true/false, otherwise every ASCII letter shifted by one ("Paris" → "Qbsjt").
 * The result never contains `ref` (nor is contained in it for non-empty results).
 *
 * @example
 * wrongText('33') // → '34'
 * wrongText('C') // → 'D'
 * wrongText('Paris') // → 'Qbsjt'
 */
export function wrongText(ref: string): string {
  const t = ref.trim();
  if (t === '') return 'no answer';
  const flip = FLIPS[t.toLowerCase()];
  if (flip) return t[0] === t[0]!.toUpperCase() ? flip[0]!.toUpperCase() + flip.slice(1) : flip;
  if (/^[A-Ea-e]$/.test(t)) return t === 'E' ? 'A' : t === 'e' ? 'a' : String.fromCharCode(t.charCodeAt(0) + 1);
  const digits = /\d+(?!.*\d)/s.exec(t);
  if (digits) {
    const n = BigInt(digits[0]);
    for (let k = 1n; k < 50n; k++) {
      const cand = t.slice(0, digits.index) + String(n + k) + t.slice(digits.index + digits[0].length);
      if (!cand.includes(t) && !t.includes(cand)) return cand;
    }
  }
  const shifted = [...t].map(SHIFT_LETTER).join('');
  return shifted !== t && !shifted.includes(t) ? shifted : `not ${t}`;
}

/**
 * Copies of a JSON value with one leaf changed each (string shifted, number + 1, boolean flipped), at
 * most `max`, leaves in document order: each a wrong answer of the same shape.
 *
 * @example
 * wrongJsonVariants({ city: 'Paris', days: 1 }) // → [{ city: 'Qbsjt', days: 1 }, { city: 'Paris', days: 2 }]
 */
export function wrongJsonVariants(v: unknown, max = 8): unknown[] {
  const out: unknown[] = [];
  const walk = (node: unknown, set: (x: unknown) => unknown): void => {
    if (out.length >= max) return;
    if (Array.isArray(node)) node.forEach((x, i) => walk(x, (y) => set(node.map((z, j) => (j === i ? y : z)))));
    else if (node !== null && typeof node === 'object') {
      for (const k of Object.keys(node)) walk((node as Record<string, unknown>)[k], (y) => set({ ...(node as Record<string, unknown>), [k]: y }));
    } else out.push(set(wrongJson(node)));
  };
  walk(v, (x) => x);
  return out.length > 0 ? out : [wrongJson(v)];
}

/** A copy of a JSON value with its last leaf changed (string shifted, number + 1, boolean flipped). */
export function wrongJson(v: unknown): unknown {
  if (typeof v === 'string') return wrongText(v);
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'boolean') return !v;
  if (v === null) return 0;
  if (Array.isArray(v)) return v.length === 0 ? [0] : [...v.slice(0, -1), wrongJson(v[v.length - 1])];
  if (typeof v === 'object') {
    const o = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(o);
    if (keys.length === 0) return { wrong: true };
    const k = keys[keys.length - 1]!;
    o[k] = wrongJson(o[k]);
    return o;
  }
  return 'wrong';
}

/** The language a `code` component runs (its `language` param, default python). */
export function codeLanguage(components: readonly ProbedComponent[]): 'python' | 'javascript' {
  const c = components.find((x) => x.grader === 'code');
  return c?.params.language === 'javascript' ? 'javascript' : 'python';
}

/** Wraps a program in a fence tagged with its language. */
export function fence(lang: string, body: string): string {
  return '```' + lang + '\n' + body + '\n```';
}

/** The tags of the spec's first `format` component (default think, answer), or null when it has none. */
export function formatTags(components: readonly ProbedComponent[]): string[] | null {
  const f = components.find((c) => c.grader === 'format');
  if (!f) return null;
  return Array.isArray(f.params.tags) ? (f.params.tags as string[]) : ['think', 'answer'];
}

/** A completion in the spec's format tags with `answer` in the last block ("reasoning" in the others). */
export function inTags(tags: readonly string[], answer: string): string {
  return tags.map((t, i) => `<${t}>\n${i === tags.length - 1 ? answer : 'Let me work it out.'}\n</${t}>`).join('\n');
}

/** `text` with every occurrence of `ref` replaced by `wrong`; for a numeric `ref`, also every number of the same value ("7,040", "7040.0"). */
function withoutAnswer(text: string, ref: string, wrong: string): string {
  let out = text.split(ref).join(wrong);
  const value = Number(ref.trim().replace(/,/g, ''));
  if (ref.trim() !== '' && Number.isFinite(value))
    out = out.replace(/-?\d[\d,]*(?:\.\d+)?/g, (m) => (Number(m.replace(/,/g, '')) === value ? wrong : m));
  return out;
}

/**
 * The layout of right answers for a sample: the sample's completion with its last occurrence of the
 * reference text as the answer slot and its other occurrences replaced by a wrong answer (when it has
 * one), else the spec's format tags, else the bare answer.
 */
export function answerLayout(sample: Rollout, components: readonly ProbedComponent[]): AnswerLayout {
  const completion = typeof sample.completion === 'string' || Array.isArray(sample.completion) ? textOf(sample.completion, 'completion') : '';
  for (const ref of referenceStrings(sample.reference)) {
    if (ref.trim() === '') continue;
    const at = completion.lastIndexOf(ref);
    if (at >= 0) {
      // Earlier occurrences (the answer worked out in the reasoning) become the wrong answer too: the
      // layout must not carry the right answer, or every attempt in it would be a right answer.
      const wrong = wrongText(ref);
      const before = withoutAnswer(completion.slice(0, at), ref, wrong);
      const after = withoutAnswer(completion.slice(at + ref.length), ref, wrong);
      return { wrap: (a) => before + a + after, source: 'sample' };
    }
  }
  const tags = formatTags(components);
  if (tags) return { wrap: (a) => inTags(tags, a), source: 'format' };
  return { wrap: (a) => a, source: 'bare' };
}

/** The plain wrong program of a code sample: it prints a wrong value and defines nothing the tests call. */
export function wrongProgram(lang: 'python' | 'javascript'): string {
  return lang === 'python' ? 'print("rewardkit-probe-wrong")' : 'console.log("rewardkit-probe-wrong");';
}

/** A valid SELECT that returns one row no gold query is expected to return. */
export const WRONG_SQL = "SELECT 'rewardkit-probe-wrong' AS answer";

/**
 * Builds the baseline of one sample for the spec's components: for a `code` component a program
 * printing a wrong value (in the component's language, in a fence), for `sql` a different valid
 * SELECT (in a fence), for an object reference (`json`, `tool_call`) the reference with its last leaf
 * changed (one alternative per leaf), otherwise {@link wrongText} of the reference in the sample's layout.
 *
 * @example
 * buildBaseline({ id: 'a', completion: '<answer>33</answer>', reference: '33' }, [{ name: 'c', grader: 'numeric', params: {} }]).completion
 * // → '<answer>34</answer>'
 */
export function buildBaseline(sample: Rollout, components: readonly ProbedComponent[]): Baseline {
  const kinds = new Set(components.map((c) => c.grader));
  if (kinds.has('code')) {
    const lang = codeLanguage(components);
    const layout: AnswerLayout = { wrap: (p) => fence(lang, p), source: 'fence' };
    const wrong = wrongProgram(lang);
    return { layout, wrong, completion: layout.wrap(wrong), alternatives: [layout.wrap(wrong)], referenceKind: 'code' };
  }
  if (kinds.has('sql')) {
    const layout: AnswerLayout = { wrap: (q) => fence('sql', q), source: 'fence' };
    return { layout, wrong: WRONG_SQL, completion: layout.wrap(WRONG_SQL), alternatives: [layout.wrap(WRONG_SQL)], referenceKind: 'sql' };
  }
  const ref = sample.reference;
  if (ref !== null && typeof ref === 'object' && !Array.isArray(ref)) {
    const variants = wrongJsonVariants(ref).map((v) => JSON.stringify(v));
    const layout = answerLayout(sample, components);
    return { layout, wrong: variants[0]!, completion: layout.wrap(variants[0]!), alternatives: variants.map((v) => layout.wrap(v)), referenceKind: 'json' };
  }
  const layout = answerLayout(sample, components);
  const refs = referenceStrings(ref);
  let wrong = refs.length > 0 ? wrongText(refs[0]!) : 'I do not know.';
  // A wrong answer must not contain any of the references (a list means "any of these").
  for (let k = 0; k < 5 && refs.some((r) => r.trim() !== '' && wrong.includes(r.trim())); k++) wrong = wrongText(wrong);
  return { layout, wrong, completion: layout.wrap(wrong), alternatives: [layout.wrap(wrong)], referenceKind: 'text' };
}
