import type { ChatMessage, Rollout } from '../../rollout/types.js';
import { parsePyJson, PyFloat, type PyValue } from './json.js';

/** One predicted tool call: a name and its arguments (parsed with Python's int/float types). */
export interface Call {
  name: string;
  args: Record<string, PyValue>;
}

/** Where the predicted calls were found. */
export type CallSource = 'tool_calls' | 'tool_call_tags' | 'json' | 'none';

/** The calls of a completion, plus what could not be parsed (each failed entry is one message). */
export interface ExtractedCalls {
  calls: Call[];
  errors: string[];
  source: CallSource;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Reads one call object in the shapes models and APIs write:
 * `{name, arguments}` / `{name, parameters}` (Hermes, ToolRL), `{function: {name, arguments}}` (OpenAI),
 * where `arguments` may itself be a JSON string, and `{func_name: {args}}` (BFCL's model-output form).
 */
export function toCall(v: unknown): Call | string {
  if (!isObj(v)) return 'a tool call must be a JSON object';
  if (isObj(v.function) && v.name === undefined) return toCall(v.function);
  if (typeof v.name === 'string') {
    let args: unknown = v.arguments !== undefined ? v.arguments : v.parameters;
    if (args === undefined || args === null) args = {};
    if (typeof args === 'string') {
      try {
        args = args.trim() === '' ? {} : parsePyJson(args);
      } catch (e) {
        return `arguments of ${v.name}: ${describe(e)}`;
      }
    }
    if (!isObj(args)) return `arguments of ${v.name} must be a JSON object`;
    return { name: v.name, args: args as Record<string, PyValue> };
  }
  const keys = Object.keys(v);
  if (keys.length === 1 && v.name === undefined && isObj(v[keys[0]!]))
    return { name: keys[0]!, args: v[keys[0]!] as Record<string, PyValue> };
  return 'a tool call needs a string "name"';
}

function pushCalls(value: unknown, out: ExtractedCalls): void {
  const items = Array.isArray(value) ? value : isObj(value) && Array.isArray(value.tool_calls) ? value.tool_calls : [value];
  for (const item of items) {
    const c = toCall(item);
    if (typeof c === 'string') out.errors.push(c);
    else out.calls.push(c);
  }
}

/** Parses the body of one `<tool_call>` block: one JSON value, or one JSON object per line (ToolRL). */
function parseBlock(body: string, out: ExtractedCalls): void {
  const text = body.trim();
  if (text === '') {
    out.errors.push('empty <tool_call> block');
    return;
  }
  try {
    pushCalls(parsePyJson(text), out);
    return;
  } catch (e) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length < 2) {
      out.errors.push(`<tool_call> block: ${describe(e)}`);
      return;
    }
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      pushCalls(parsePyJson(line), out);
    } catch (e) {
      out.errors.push(`<tool_call> line: ${describe(e)}`);
    }
  }
}

const FENCE = /```[^\n`]*\n([\s\S]*?)```/g;

/**
 * Calls written in text: every `<tool_call>…</tool_call>` block (an unclosed last block runs to the
 * end), else the whole text — or its last fenced block — when it is a JSON call, list of calls or
 * `{"tool_calls": […]}`. Text with neither gives no calls.
 */
export function callsFromText(text: string): ExtractedCalls {
  const out: ExtractedCalls = { calls: [], errors: [], source: 'none' };
  if (text.includes('<tool_call>')) {
    out.source = 'tool_call_tags';
    const parts = text.split('<tool_call>').slice(1);
    for (const part of parts) {
      const end = part.indexOf('</tool_call>');
      parseBlock(end === -1 ? part : part.slice(0, end), out);
    }
    return out;
  }
  let candidate = text;
  const fences = [...text.matchAll(FENCE)];
  if (fences.length > 0) candidate = fences[fences.length - 1]![1]!;
  candidate = candidate.trim();
  if (!candidate.startsWith('{') && !candidate.startsWith('[')) return out;
  out.source = 'json';
  try {
    pushCalls(parsePyJson(candidate), out);
  } catch (e) {
    out.errors.push(`JSON call: ${describe(e)}`);
  }
  return out;
}

/** Structured `tool_calls` of the completion's assistant messages, in order; `null` when there are none. */
export function callsFromMessages(completion: Rollout['completion']): ExtractedCalls | null {
  if (!Array.isArray(completion)) return null;
  const out: ExtractedCalls = { calls: [], errors: [], source: 'tool_calls' };
  let found = false;
  for (const m of completion as ChatMessage[]) {
    if (m?.role !== 'assistant' || !Array.isArray(m.tool_calls) || m.tool_calls.length === 0) continue;
    found = true;
    for (const tc of m.tool_calls) {
      const c = toCall(tc);
      if (typeof c === 'string') out.errors.push(c);
      else out.calls.push(c);
    }
  }
  return found ? out : null;
}

/**
 * The predicted calls of a rollout: the assistant messages' `tool_calls` when there are any, else
 * the calls written in the completion text (see {@link callsFromText}).
 */
export function extractCalls(rollout: Rollout, completionText: string): ExtractedCalls {
  return callsFromMessages(rollout.completion) ?? callsFromText(completionText);
}

// ---------------------------------------------------------------------------------------------
// References

/** One expected argument: its acceptable values, and whether it may be left out. */
export interface RefParam {
  values: unknown[];
  optional: boolean;
}

/** One expected call. */
export interface RefCall {
  name: string;
  params: Map<string, RefParam>;
}

/** A function's parameter description, as BFCL and OpenAI tool schemas give it. */
export interface ParamDoc {
  type?: string;
  items?: { type?: string };
}

/** A function description (BFCL `function` entry or OpenAI tool), reduced to what the checks read. */
export interface FunctionDoc {
  name: string;
  properties: Record<string, ParamDoc>;
  required: string[];
}

/** The parsed reference of a rollout. */
export interface ToolReference {
  calls: RefCall[];
  /** Function descriptions, when the reference or meta carries them (BFCL type checks need them). */
  functions: FunctionDoc[] | null;
}

function refCallFromPlain(c: Call): RefCall {
  const params = new Map<string, RefParam>();
  for (const [k, v] of Object.entries(c.args)) params.set(k, { values: [v], optional: false });
  return { name: c.name, params };
}

/** `{func: {param: [acceptable…]}}`: BFCL's ground-truth form; `""` among the values = may be omitted. */
function isBfclItem(v: unknown): v is Record<string, Record<string, unknown[]>> {
  if (!isObj(v) || typeof v.name === 'string') return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  const inner = v[keys[0]!];
  return isObj(inner) && Object.values(inner).every(Array.isArray);
}

function refCallsFromList(list: unknown[]): RefCall[] {
  return list.map((item, i) => {
    if (isBfclItem(item)) {
      const [name, args] = Object.entries(item)[0]!;
      const params = new Map<string, RefParam>();
      for (const [k, values] of Object.entries(args)) params.set(k, { values, optional: values.includes('') });
      return { name, params };
    }
    const c = toCall(item);
    if (typeof c === 'string') throw new Error(`reference call ${i}: ${c}`);
    return refCallFromPlain(c);
  });
}

/** Reads function descriptions in BFCL's (`{name, parameters: {properties, required}}`) or OpenAI's (`{type: "function", function: {…}}`) form. */
export function toFunctionDocs(v: unknown): FunctionDoc[] | null {
  const list = Array.isArray(v) ? v : isObj(v) ? [v] : null;
  if (list === null) return null;
  const out: FunctionDoc[] = [];
  for (const item of list) {
    const f = isObj(item) && isObj(item.function) ? item.function : item;
    if (!isObj(f) || typeof f.name !== 'string') continue;
    const params = isObj(f.parameters) ? f.parameters : {};
    const properties = isObj(params.properties) ? (params.properties as Record<string, ParamDoc>) : {};
    const required = Array.isArray(params.required) ? params.required.filter((r): r is string => typeof r === 'string') : [];
    out.push({ name: f.name, properties, required });
  }
  return out;
}

function docsFrom(o: Obj | undefined): FunctionDoc[] | null {
  if (!o) return null;
  for (const key of ['functions', 'function', 'tools']) if (o[key] !== undefined) return toFunctionDocs(o[key]);
  return null;
}

/**
 * Parses a tool-call reference. Accepted forms:
 * - a list of calls `[{name, arguments}]` (or `parameters`), or BFCL's ground truth
 *   `[{func: {param: [acceptable values]}}]`; an empty list means no call is expected;
 * - an object `{ground_truth | calls | tool_calls: <list>, functions | function | tools: <descriptions>}`,
 *   or a single call object;
 * - text with `<tool_call>` blocks or JSON, as a model would write it (text without calls = no call expected).
 * Function descriptions are read from the reference object, else from `meta.functions | function | tools`,
 * else from the rollout's `tools`. Returns `null` when there is no reference; throws on a malformed one.
 */
export function parseReference(reference: unknown, meta: Readonly<Obj>, rollout: Rollout): ToolReference | null {
  if (reference === undefined || reference === null) return null;
  let calls: RefCall[];
  let functions: FunctionDoc[] | null = null;
  if (typeof reference === 'string') {
    const ex = callsFromText(reference);
    if (ex.errors.length > 0) throw new Error(`reference: ${ex.errors[0]}`);
    calls = ex.calls.map(refCallFromPlain);
  } else if (Array.isArray(reference)) {
    calls = refCallsFromList(reference);
  } else if (isObj(reference)) {
    const list = reference.ground_truth ?? reference.calls ?? reference.tool_calls;
    if (Array.isArray(list)) calls = refCallsFromList(list);
    else calls = refCallsFromList([reference]);
    functions = docsFrom(reference);
  } else {
    throw new Error('reference must be a list of calls, an object or text');
  }
  functions ??= docsFrom(meta as Obj) ?? (rollout.tools !== undefined ? toFunctionDocs(rollout.tools) : null);
  return { calls, functions };
}
