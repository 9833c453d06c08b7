import * as z from 'zod';
import { graderKinds } from '../graders/registry.js';
import { combiners } from '../combine/registry.js';
import { shapers } from '../shape/registry.js';
import { estimators } from '../advantage/registry.js';
import { diagnoseOptionsSchema } from '../diagnose/index.js';
import { credits } from '../credit/registry.js';
import { componentBase } from './schema.js';

interface Prop {
  type?: unknown;
  properties?: Record<string, Prop>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Prop[];
  oneOf?: Prop[];
  items?: Prop;
  default?: unknown;
  description?: string;
}

function typeOf(p: Prop): string {
  if (p.enum) return p.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (p.const !== undefined) return `\`${JSON.stringify(p.const)}\``;
  const alts = p.anyOf ?? p.oneOf;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (p.type === 'array') return `list of ${p.items ? typeOf(p.items) : 'any'}`;
  if (Array.isArray(p.type)) return p.type.join(' \\| ');
  return typeof p.type === 'string' ? p.type : 'any';
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

function paramsTable(shape: z.ZodRawShape): string {
  const schema = z.toJSONSchema(z.strictObject(shape), { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Prop>; required?: string[] };
  const props = Object.entries(schema.properties ?? {});
  if (props.length === 0) return '_No params._\n';
  const req = new Set(schema.required ?? []);
  const rows: string[] = [];
  const add = (name: string, p: Prop, required: boolean) => {
    const def = p.default === undefined ? (required ? '**required**' : '') : `\`${JSON.stringify(p.default)}\``;
    rows.push(`| \`${name}\` | ${typeOf(p)} | ${def} | ${cell(p.description ?? '')} |`);
    // Nested option objects (e.g. `normalize`) get one row per key.
    if (p.type === 'object' && p.properties) {
      const sub = new Set(p.required ?? []);
      for (const [k, q] of Object.entries(p.properties)) add(`${name}.${k}`, q, sub.has(k));
    }
  };
  for (const [name, p] of props) add(name, p, req.has(name));
  return ['| param | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** The reference of every spec building block, as markdown (docs/reference.md). */
export function referenceMarkdown(): string {
  const parts: string[] = [
    '# rewardkit spec reference',
    '',
    '_Generated from the code by `npm run docs` (scripts/reference-docs.ts); do not edit by hand._',
    '',
    '## Components',
    '',
    'Every entry of `components` has these keys, plus the params of its grader:',
    '',
    paramsTable(componentBase),
    '## Graders',
    '',
  ];
  for (const k of graderKinds) parts.push(`### \`${k.kind}\``, '', k.summary, '', paramsTable(k.params));
  parts.push('## Combiners (`combine: {type: …}`)', '', 'Every combiner also takes `on_null` (how null components count): `exclude` (the default of every weight-based type: a null adds nothing, as a 0 would — TRL `nansum`; `formula` defaults to `null`), `renormalize` (opt-in: rescales the other components up, so an answer that cannot be judged can outscore a wrong one), `zero`, `null`. See docs/null-rewards.md.', '');
  for (const c of combiners) parts.push(`### \`${c.type}\``, '', c.summary, '', paramsTable(c.params));
  parts.push('## Shapers (`shape: [{type: …}]`, applied in order)', '');
  for (const s of Object.values(shapers)) parts.push(`### \`${s.type}\``, '', s.summary, '', paramsTable(s.params as z.ZodRawShape));
  parts.push('## Estimators (`advantage: {estimator: …}`)', '');
  for (const e of Object.values(estimators)) parts.push(`### \`${e.estimator}\``, '', e.summary, '', paramsTable(e.params as z.ZodRawShape));
  parts.push('## Step-level credit (`credit: {method: …}`, for rollouts with `steps`)', '');
  for (const c of Object.values(credits)) parts.push(`### \`${c.method}\``, '', c.summary, '', paramsTable(c.params as z.ZodRawShape));
  parts.push('## Diagnostics options (`diagnostics: {…}`)', '', paramsTable(diagnoseOptionsSchema.shape));
  return parts.join('\n');
}
