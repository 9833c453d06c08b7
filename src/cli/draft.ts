/**
 * `rewardkit spec draft "task description" --backend …` — Language to Rewards (Yu et al., "Language to
 * Rewards for Robotic Skill Synthesis", 2023): a language model writes the reward, and the engine checks
 * it before anyone trains on it.
 *
 * The model is asked (through the project's backends) for a spec in a fenced YAML block, given the task,
 * the rule-based grader kinds it may use with their params, an example spec and the sample rollouts.
 * Its reply goes through five gates, each with a clear error naming what failed:
 *
 * 1. **extract** — a fenced ```yaml/```json block (or the whole reply if it is a mapping);
 * 2. **kinds** — only rule-based grader kinds ({@link DRAFT_KINDS}) and no `backends:`: a drafted spec
 *    must not run model-written code (`python`, `code`, `module`), reach the network (`http`, model
 *    graders) or call models while it is checked;
 * 3. **parse / compile** — the spec schema and every grader's params, as `spec check`;
 * 4. **probe** — the reward-hacking suite (`rewardkit probe`): nothing may beat a plain wrong answer;
 * 5. **score** — each sample's right completion (the sample's own, or its reference written in the
 *    spec's answer layout) must get a non-null reward above the plain wrong answer's, without grader errors.
 *
 * A rejected draft is sent back to the model with the reason, up to `--attempts` times (the L2R loop
 * of correcting a reward from feedback). The accepted spec is printed (or written with `--out`).
 * Exit 0 when a draft is accepted, 1 when every attempt was rejected or the backend failed, 2 for usage errors.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Backend, ChatMessage } from '../backends/types.js';
import { graderKind } from '../graders/registry.js';
import { answerLayout, referenceStrings } from '../probe/baseline.js';
import { BUILTIN_SAMPLES, componentsNeedingSamples, probedComponents, probeSpec, type ProbeReport } from '../probe/index.js';
import { FINDING_EPSILON } from '../probe/run.js';
import { textOf } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
import { compileSpecAsync, type CompiledSpec } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { parseSpec } from '../spec/load.js';
import { openChatBackend, readSampleRollouts, UsageError, type BackendOptions } from './inputs.js';

/** Grader kinds a drafted spec may use: rule-based, no model, no code execution, no network. */
export const DRAFT_KINDS: readonly string[] = ['exact', 'contains', 'regex', 'format', 'numeric', 'math', 'json', 'length', 'bleu', 'rouge_l', 'chrf', 'edit_distance', 'ngram_jaccard', 'distinct_n'];

/** Options of {@link runSpecDraft}. */
export interface SpecDraftOptions extends BackendOptions {
  /** Sample rollouts (JSONL: prompt, reference, ideally a right completion); default the built-in samples. */
  in?: string;
  /** Write the accepted spec here instead of printing it. */
  out?: string;
  /** Drafts asked for at most (the first plus corrections). Default 3. */
  attempts?: number;
  /** Print one JSON object: {accepted, attempts: [{attempt, stage, error?}], spec?}. */
  json?: boolean;
  /** Sampling temperature of the drafts. Default 0. */
  temperature?: number;
}

/** Where a draft failed. */
export type DraftStage = 'extract' | 'kinds' | 'parse' | 'compile' | 'probe' | 'score';

/** A draft rejected at `stage`, with the reason shown to the user and sent back to the model. */
export class DraftRejected extends Error {
  constructor(
    readonly stage: DraftStage,
    message: string,
  ) {
    super(message);
    this.name = 'DraftRejected';
  }
}

/** The completion of a rollout as text ('' when absent). */
function completionText(r: Rollout): string {
  return typeof r.completion === 'string' || Array.isArray(r.completion) ? textOf(r.completion, 'completion') : '';
}

/** Thrown for input the command cannot use (exit 2). */
/**
 * The spec text of a model reply: the first fenced ```yaml, ```yml, ```json or bare ``` block, else the
 * whole reply when it parses as a mapping.
 *
 * @example
 * extractSpecText('Here:\n```yaml\nname: x\n```') // → 'name: x\n'
 */
export function extractSpecText(reply: string): string {
  const m = /```[ \t]*(?:ya?ml|json|YAML|JSON)?[ \t]*\r?\n([\s\S]*?)```/.exec(reply);
  if (m) return m[1];
  const t = reply.trim();
  if (t === '') throw new DraftRejected('extract', 'the reply is empty');
  const doc = parseDocument(t);
  const v = doc.errors.length === 0 ? doc.toJS() : undefined;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return t;
  throw new DraftRejected('extract', 'the reply has no ```yaml block and is not a YAML mapping');
}

/** Every `grader:` value in a raw spec (nested graders included), with its path. */
function graderValues(v: unknown, path: string, out: { path: string; kind: unknown }[]): void {
  if (Array.isArray(v)) v.forEach((x, i) => graderValues(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (k === 'grader') out.push({ path: p, kind: x });
      graderValues(x, p, out);
    }
  }
}

/**
 * Parses drafted spec text after checking its kinds: YAML errors, a top level that is not a mapping, a
 * `backends:` section or a grader outside {@link DRAFT_KINDS} are rejected before anything is built.
 */
export function checkDraftText(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new DraftRejected('parse', `YAML error${e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''}: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new DraftRejected('parse', 'the spec is not a mapping (expected name, components, …)');
  if (Object.hasOwn(raw, 'backends')) throw new DraftRejected('kinds', 'backends: a drafted spec may not declare model backends; use rule-based graders only');
  const found: { path: string; kind: unknown }[] = [];
  graderValues(raw, '', found);
  for (const f of found) {
    if (typeof f.kind !== 'string' || !DRAFT_KINDS.includes(f.kind)) {
      throw new DraftRejected('kinds', `${f.path}: grader ${JSON.stringify(f.kind)} is not allowed in a drafted spec; use one of ${DRAFT_KINDS.join(', ')}`);
    }
  }
  return raw;
}

/** The system prompt: the spec format, the allowed kinds and their params, an example. */
export function draftSystemPrompt(): string {
  const kinds = DRAFT_KINDS.map((k) => {
    const g = graderKind(k);
    if (!g) return `- ${k}`;
    const params = Object.entries(g.params)
      .map(([p, s]) => `${p}: ${((s as { description?: string }).description ?? '').split('. ')[0].slice(0, 110)}`)
      .join('; ');
    return `- ${k}: ${g.summary}${params ? `\n    params — ${params}` : ''}`;
  }).join('\n');
  return [
    'You write reward specs for rewardkit, a reward engine for RL post-training of language models.',
    'A spec is YAML: `name`, `components` (each: `name`, `grader`, `weight`, and the grader\'s params inline), optional `combine: {type: weighted_sum}` and `advantage: {estimator: grpo}`.',
    'Each rollout has a `prompt`, a `completion` and a `reference` (the ground truth); graders compare the completion with the reference.',
    'Use only these grader kinds (rule-based; no model backends, no code):',
    kinds,
    'Example:',
    '```yaml',
    'name: gsm8k-r1',
    'components:',
    '  - {name: correct, grader: numeric, weight: 1.0}',
    '  - {name: format, grader: format, tags: [think, answer], weight: 0.2}',
    'combine: {type: weighted_sum}',
    'advantage: {estimator: grpo}',
    '```',
    'The spec is checked before it is used: a plain wrong answer must never score as much as a right one, and known hacks (empty or format-only answers, many candidate answers, echoing the prompt, huge outputs) must not beat a plain wrong answer.',
    'Reply with the whole spec in one ```yaml block and nothing else.',
  ].join('\n');
}

/** The user prompt: the task and a few sample rollouts. */
export function draftUserPrompt(task: string, samples: readonly Rollout[]): string {
  const shown = samples.slice(0, 3).map((s, i) => {
    const comp = completionText(s);
    return `Sample ${i + 1}:\n  prompt: ${JSON.stringify(typeof s.prompt === 'string' ? s.prompt : JSON.stringify(s.prompt)).slice(0, 400)}\n  reference: ${JSON.stringify(s.reference).slice(0, 200)}${comp ? `\n  right completion: ${JSON.stringify(comp).slice(0, 400)}` : ''}`;
  });
  return `Task: ${task}\n\nThe rollouts look like this:\n${shown.join('\n')}\n\nWrite the reward spec.`;
}

async function readSamples(path: string): Promise<Rollout[]> {
  if (!existsSync(path)) throw new UsageError(`--in: no such file ${path}`);
  const out = await readSampleRollouts(path);
  for (const r of out) if (referenceStrings(r.reference).every((s) => s.trim() === '')) throw new UsageError(`${path}: sample "${r.id}" has no reference; spec draft needs the right answer of every sample`);
  return out;
}

/** Samples with a right completion each: their own when it contains the reference, else the reference in the spec's answer layout. */
function withRightCompletions(samples: readonly Rollout[], compiled: CompiledSpec): Rollout[] {
  const comps = probedComponents(compiled.spec);
  return samples.map((s) => {
    const refs = referenceStrings(s.reference).filter((r) => r.trim() !== '');
    const c = completionText(s);
    if (refs.some((r) => c.includes(r))) return s;
    return { ...s, completion: answerLayout(s, comps).wrap(refs[0] ?? '') };
  });
}

/** Gates 4 and 5 on a compiled draft; returns the probe report when the draft passes. */
async function probeAndScore(compiled: CompiledSpec, samples: readonly Rollout[]): Promise<ProbeReport> {
  const need = componentsNeedingSamples(probedComponents(compiled.spec));
  if (need.length > 0 && samples === BUILTIN_SAMPLES) {
    throw new DraftRejected('probe', `${need.map((c) => `component "${c.name}" (grader ${c.grader})`).join(', ')} needs task data the built-in samples do not have: pass sample rollouts with --in, or use other graders`);
  }
  const rights = withRightCompletions(samples, compiled);
  const report = await probeSpec(compiled, rights, { maxRollouts: 8, hugeChars: 100_000 });
  if (report.findings.length > 0) {
    const f = report.findings[0];
    const more = report.findings.length > 1 ? ` (and ${report.findings.length - 1} more: ${report.findings.slice(1, 4).map((x) => x.strategy).join(', ')})` : '';
    throw new DraftRejected('probe', `the hack "${f.strategy}" beats a plain wrong answer on component ${f.component}: reward ${f.reward} vs ${f.baseline}, e.g. ${JSON.stringify(f.example.slice(0, 80))}${more}`);
  }
  for (const s of report.samples) {
    if (s.baseline === null) throw new DraftRejected('score', `sample "${s.id}": a plain wrong answer gets a null reward — the spec cannot judge this sample`);
    if (s.right === null) throw new DraftRejected('score', `sample "${s.id}": the right completion gets a null reward — the spec cannot read its answer`);
    if (!(s.right > s.baseline + FINDING_EPSILON)) throw new DraftRejected('score', `sample "${s.id}": the right completion scores ${s.right}, no more than a plain wrong answer (${s.baseline}) — the reward does not separate right from wrong`);
  }
  if (report.graderErrors > 0) throw new DraftRejected('score', `${report.graderErrors} scored completions had grader errors`);
  return report;
}

/** One reviewed draft: the spec text, and the report when accepted. */
async function review(reply: string, samples: readonly Rollout[]): Promise<{ text: string; report: ProbeReport; components: string[] }> {
  const text = extractSpecText(reply);
  const raw = checkDraftText(text);
  let spec;
  try {
    spec = parseSpec(raw, 'draft');
  } catch (e) {
    if (e instanceof SpecError) throw new DraftRejected('parse', e.issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; '));
    throw e;
  }
  let compiled: CompiledSpec;
  try {
    compiled = await compileSpecAsync(spec, { source: 'draft', specDir: process.cwd() });
  } catch (e) {
    if (e instanceof SpecError) throw new DraftRejected('compile', e.issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; '));
    throw new DraftRejected('compile', e instanceof Error ? e.message : String(e));
  }
  try {
    const report = await probeAndScore(compiled, samples);
    return { text, report, components: [...compiled.names] };
  } finally {
    await compiled.close();
  }
}

/**
 * Runs `spec draft`. Returns the exit code: 0 accepted, 1 rejected (every attempt) or backend failure,
 * 2 usage.
 */
export async function runSpecDraft(
  task: string,
  o: SpecDraftOptions,
  out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
): Promise<number> {
  if (task.trim() === '') {
    err('error: the task description is empty');
    return 2;
  }
  const attempts = o.attempts ?? 3;
  let built: { backend: Backend; close: () => Promise<void> };
  let samples: readonly Rollout[];
  try {
    if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError(`--attempts must be a positive integer, got ${attempts}`);
    samples = o.in !== undefined ? await readSamples(o.in) : BUILTIN_SAMPLES;
    built = openChatBackend(o, 'draft');
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const log: { attempt: number; stage: DraftStage | 'accepted'; error?: string }[] = [];
  const finish = (accepted: boolean, spec?: string) => {
    if (o.json) out(JSON.stringify({ accepted, attempts: log, ...(spec !== undefined ? { spec } : {}) }));
  };
  try {
    const backend = built.backend;
    const messages: ChatMessage[] = [
      { role: 'system', content: draftSystemPrompt() },
      { role: 'user', content: draftUserPrompt(task, samples) },
    ];
    for (let k = 1; k <= attempts; k++) {
      let reply: string;
      try {
        reply = (await backend.chat({ messages, temperature: o.temperature ?? 0, max_tokens: 1500 })).text;
      } catch (e) {
        err(`error: backend ${o.backend} failed on draft ${k}: ${e instanceof Error ? e.message : String(e)}`);
        finish(false);
        return 1;
      }
      try {
        const ok = await review(reply, samples);
        log.push({ attempt: k, stage: 'accepted' });
        const header = `# drafted by \`rewardkit spec draft\` for: ${task.replace(/\s+/g, ' ').slice(0, 200)}\n# checked: compiled, probed (${ok.report.tried} attempts on ${ok.report.samples.length} samples, nothing beat a plain wrong answer), right answers score above wrong ones\n`;
        const spec = header + (ok.text.endsWith('\n') ? ok.text : ok.text + '\n');
        if (o.out !== undefined) writeFileSync(o.out, spec);
        else if (!o.json) out(spec.trimEnd());
        err(
          `accepted draft ${k}: components ${ok.components.join(', ')}; probe: nothing beat a plain wrong answer (${ok.report.tried} attempts on ${ok.report.samples.length} samples); right vs wrong: ${ok.report.samples.map((s) => `${s.id} ${s.right} > ${s.baseline}`).join(', ')}${o.out !== undefined ? `; written to ${o.out}` : ''}`,
        );
        finish(true, spec);
        return 0;
      } catch (e) {
        if (!(e instanceof DraftRejected)) throw e;
        log.push({ attempt: k, stage: e.stage, error: e.message });
        err(`draft ${k} rejected (${e.stage}): ${e.message}`);
        messages.push({ role: 'assistant', content: reply });
        messages.push({ role: 'user', content: `Your spec was rejected at the ${e.stage} check: ${e.message}\nFix it and reply with the whole corrected spec in one \`\`\`yaml block.` });
      }
    }
    err(`error: no draft accepted after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
    finish(false);
    return 1;
  } finally {
    await built.close();
  }
}
