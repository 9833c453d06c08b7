// Baseline for the score benchmark: the bare JSONL pass (read, JSON.parse, JSON.stringify, write) over the
// same file with the same reader and writer the CLI uses. Prints {ms, max_rss_mb, lines} as JSON.
import { readJsonlLines, openJsonlWriter } from '../dist/rollout/jsonl.js';

const [input, output] = process.argv.slice(2);
const t0 = performance.now();
const w = openJsonlWriter(output);
let lines = 0;
for await (const chunk of readJsonlLines(input)) {
  let text = '';
  for (const l of chunk) {
    text += JSON.stringify(JSON.parse(l.text)) + '\n';
    lines++;
  }
  await w.write(text);
}
await w.close();
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, max_rss_mb: process.resourceUsage().maxRSS / 1024, lines }));
