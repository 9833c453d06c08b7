import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceMarkdown } from '../src/spec/reference.js';
import { ROOT } from './cli.js';

describe('docs/reference.md', () => {
  it('is up to date with the registries (run `npm run docs` after changing a schema)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8')).toBe(referenceMarkdown());
  });
});
