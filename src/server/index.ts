/**
 * The reward server: `startServer({specs: ['examples/gsm8k.yaml']})` serves `/v1/score`,
 * `/get_reward` (OpenRLHF), `/run_code` (Sandbox Fusion for verl), `/v1/specs`, `/healthz`,
 * `/metrics`, `/openapi.json` and `/docs`.
 */
export { createServer, startServer, type RewardServer } from './app.js';
export { resolveOptions, isLoopback, ServerConfigError, DEFAULT_STRIP_SUFFIXES, type ServerOptions, type ResolvedOptions, type ScoringMode, type OpenRlhfOptions } from './options.js';
export { SpecSet, type SpecEntry } from './specs.js';
export { HttpError, type ErrorBody } from './errors.js';
export type { SlimResult } from './service.js';
