/**
 * Inputs several CLI commands share, defined once here:
 * - `--backend URL|FILE [--model M] [--api-key-env VAR]`: the one chat backend a command talks to
 *   (`spec draft` asks it for a spec; `lab run` asks it for judge labels): the options
 *   ({@link addBackendOptions}) and the backend they name ({@link openChatBackend});
 * - sample rollouts from a JSONL file, whose completion may be left out ({@link readSampleRollouts};
 *   `probe --in`, `spec draft --in`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { buildBackends, type BuiltBackends } from '../backends/config.js';
import type { Backend } from '../backends/types.js';
import { readJsonlLines } from '../rollout/jsonl.js';
import type { Rollout } from '../rollout/types.js';
import { validateRollout } from '../rollout/validate.js';

/** A usage error of a CLI command (its message is printed after `error: `; the command exits 2). */
export class UsageError extends Error {}

/** The values of `--backend`, `--model`, `--api-key-env`. */
export interface BackendOptions {
  /** An OpenAI-compatible base URL (with `--model`), or a YAML/JSON file holding one backend config (as an entry of a spec's `backends:`). */
  backend: string;
  /** Model name when `backend` is a URL (overrides the file's `model` otherwise). */
  model?: string;
  /** Environment variable holding the API key when `backend` is a URL. */
  apiKeyEnv?: string;
}

/**
 * Adds `--backend <url|file>` (required or not), `--model <name>` and `--api-key-env <var>` to `cmd`;
 * `what` says what the backend is for, in the help.
 *
 * @example
 * addBackendOptions(program.command('draft'), 'the model that writes the spec', true);
 */
export function addBackendOptions(cmd: Command, what: string, required: boolean): Command {
  const desc = `${what}: an OpenAI-compatible base URL (with --model), or a YAML/JSON file with one backend config ({type: openai, base_url, model, …})`;
  if (required) cmd.requiredOption('--backend <url|file>', desc);
  else cmd.option('--backend <url|file>', desc);
  return cmd
    .option('--model <name>', 'model name (required with a URL backend)')
    .option('--api-key-env <var>', 'environment variable holding the API key (URL backend)');
}

/** The backend config `--backend` names, and the folder relative paths in it resolve against. */
function backendConfig(o: BackendOptions): { config: Record<string, unknown>; dir: string } {
  if (/^https?:\/\//i.test(o.backend)) {
    if (!o.model) throw new UsageError('--model is required when --backend is a URL');
    return { config: { type: 'openai', base_url: o.backend, model: o.model, cache: false, ...(o.apiKeyEnv ? { api_key_env: o.apiKeyEnv } : {}) }, dir: process.cwd() };
  }
  const path = resolve(o.backend);
  if (!existsSync(path)) throw new UsageError(`--backend: "${o.backend}" is neither an http(s) URL nor an existing backend config file`);
  const doc = parseDocument(readFileSync(path, 'utf8'));
  if (doc.errors.length > 0) throw new UsageError(`--backend ${o.backend}: ${doc.errors[0].message.split('\n')[0]}`);
  const v: unknown = doc.toJS();
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`--backend ${o.backend}: expected a mapping such as {type: openai, base_url: …, model: …}`);
  const config: Record<string, unknown> = { cache: false, ...(v as Record<string, unknown>) };
  if (o.model) config.model = o.model;
  return { config, dir: dirname(path) };
}

/**
 * Builds the chat backend of `--backend` under the name `name` (the name its errors carry). Throws a
 * {@link UsageError} for a bad URL/file/config or a backend that cannot chat. Close it when done.
 *
 * @example
 * const { backend, close } = openChatBackend({ backend: 'http://127.0.0.1:8000/v1', model: 'qwen' }, 'judge');
 * try { await backend.chat({ messages: [{ role: 'user', content: 'hi' }] }); } finally { await close(); }
 */
export function openChatBackend(o: BackendOptions, name: string): { backend: Backend; close: () => Promise<void> } {
  const { config, dir } = backendConfig(o);
  let built: BuiltBackends;
  try {
    built = buildBackends({ [name]: config as never }, { specDir: dir });
  } catch (e) {
    throw new UsageError(`--backend: ${e instanceof Error ? e.message.replace(/^invalid spec backends:\n\s*/, '') : String(e)}`);
  }
  try {
    return { backend: built.resolver.get(name, ['chat']), close: () => built.close() };
  } catch (e) {
    void built.close();
    throw new UsageError(`--backend: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Reads sample rollouts (JSONL, one rollout a line; a sample may be a prompt and a reference alone: its
 * completion defaults to empty). Throws a {@link UsageError} naming the file and line of a bad line, or
 * the file when it holds no rollouts.
 *
 * @example
 * const samples = await readSampleRollouts('samples.jsonl');
 */
export async function readSampleRollouts(path: string): Promise<Rollout[]> {
  const out: Rollout[] = [];
  for await (const chunk of readJsonlLines(path)) {
    for (const l of chunk) {
      if (l.tooLong) throw new UsageError(`${path}:${l.line}: line too long`);
      let v: unknown;
      try {
        v = JSON.parse(l.text);
      } catch (e) {
        throw new UsageError(`${path}:${l.line}: not JSON (${(e as Error).message})`);
      }
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !('completion' in v)) v = { ...v, completion: '' };
      try {
        out.push(validateRollout(v));
      } catch (e) {
        throw new UsageError(`${path}:${l.line}: ${(e as Error).message}`);
      }
    }
  }
  if (out.length === 0) throw new UsageError(`${path}: no rollouts`);
  return out;
}
