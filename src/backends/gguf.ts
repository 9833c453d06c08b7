// Placeholder: the embedded GGUF backend is being written (issue 6).
import { z } from 'zod';
import type { Transport } from './types.js';

/** Spec config of a `type: gguf` backend. */
export const ggufConfigSchema = z.strictObject({
  type: z.literal('gguf').describe('An embedded local model in a GGUF file, run in-process by node-llama-cpp.'),
  path: z.string().min(1).describe('Path of the .gguf file (relative to the spec file).'),
});
export type GgufConfig = z.output<typeof ggufConfigSchema>;

/** Builds the transport; the model loads on first use. */
export function createGgufTransport(_config: GgufConfig, _specDir: string): Transport {
  throw new Error('gguf backend not implemented yet');
}
