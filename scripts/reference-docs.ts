/**
 * Writes docs/reference.md from the registries' schemas: every grader, combiner, shaper and estimator
 * with every param, its default and its description — so the reference cannot drift from the code.
 * Run: `npm run docs`. A test (test/docs.test.ts) fails when the committed file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceMarkdown } from '../src/spec/reference.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'reference.md');
writeFileSync(out, referenceMarkdown());
console.log(`wrote ${out}`);
