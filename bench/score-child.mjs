// Runs `rewardkit score` in-process (the same code path as the CLI) and prints {ms, max_rss_mb} as JSON.
import { runScore } from '../dist/cli/score.js';

const [spec, input, output] = process.argv.slice(2);
const t0 = performance.now();
const code = await runScore({ spec, in: input, out: output, batchSize: 1024, quiet: true, progress: false });
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, max_rss_mb: process.resourceUsage().maxRSS / 1024, code }));
