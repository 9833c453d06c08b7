import type { SandboxLanguage } from './sandbox.js';

/** Fence info strings that name each language (lower-cased, first word of the info string). */
const TAGS: Record<SandboxLanguage, ReadonlySet<string>> = {
  python: new Set(['python', 'python3', 'py', 'py3', 'python2']),
  javascript: new Set(['javascript', 'js', 'node', 'nodejs', 'mjs', 'cjs', 'jsx']),
  c: new Set(['c', 'h']),
  cpp: new Set(['cpp', 'c++', 'cc', 'cxx', 'hpp']),
  java: new Set(['java']),
  go: new Set(['go', 'golang']),
  rust: new Set(['rust', 'rs']),
  bash: new Set(['bash', 'sh', 'shell']),
};

export interface ExtractedCode {
  code: string;
  /** Where the code came from: a block tagged with the language, an untagged block, another block, or the whole text. */
  source: 'tagged_block' | 'untagged_block' | 'other_block' | 'whole_text';
  /** The info string of the chosen block ('' when untagged or whole text). */
  tag: string;
}

interface Block {
  tag: string;
  body: string;
}

/** Markdown fenced blocks (``` or ~~~, three or more), in order; an unclosed last block runs to the end of the text. */
export function fencedBlocks(text: string): Block[] {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  let open: { fence: string; tag: string; start: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (open === null) {
      const m = /^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
      if (m) open = { fence: m[1]!, tag: m[2]!.toLowerCase(), start: i + 1 };
    } else {
      const m = /^\s{0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (m && m[1]![0] === open.fence[0] && m[1]!.length >= open.fence.length) {
        blocks.push({ tag: open.tag, body: lines.slice(open.start, i).join('\n') });
        open = null;
      }
    }
  }
  if (open !== null) blocks.push({ tag: open.tag, body: lines.slice(open.start).join('\n') });
  return blocks;
}

/**
 * The program in a completion: the last fenced block tagged with the language (```python, ```py,
 * ```js, ```javascript …); else the last untagged block; else the last block of any tag; else the
 * whole text. A block left open at the end (a truncated completion) counts as running to the end.
 */
export function extractCode(text: string, language: SandboxLanguage): ExtractedCode {
  const blocks = fencedBlocks(text);
  const tags = TAGS[language];
  const pick = (pred: (b: Block) => boolean) => {
    for (let i = blocks.length - 1; i >= 0; i--) if (pred(blocks[i]!)) return blocks[i]!;
    return undefined;
  };
  const tagged = pick((b) => tags.has(b.tag.replace(/^\{?\.?/, '').replace(/\}$/, '')));
  if (tagged) return { code: tagged.body, source: 'tagged_block', tag: tagged.tag };
  const untagged = pick((b) => b.tag === '');
  if (untagged) return { code: untagged.body, source: 'untagged_block', tag: '' };
  const any = blocks[blocks.length - 1];
  if (any) return { code: any.body, source: 'other_block', tag: any.tag };
  return { code: text, source: 'whole_text', tag: '' };
}
