/**
 * `npm run bench`: builds, then runs every benchmark in its own process, one after the other (each
 * measures its own baseline in the same run), and prints their tables. Figures go to BENCHMARKS.md.
 * Pick some with `npm run bench -- score math` (names: score, library, region, startup, advantage, credit, math, sql, code, eval, server, backend, lab, pool).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const all = ['score', 'library', 'region', 'startup', 'advantage', 'credit', 'math', 'sql', 'code', 'eval', 'server', 'backend', 'lab', 'pool'];
const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = picked.filter((p) => !all.includes(p));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${all.join(', ')})`);
  process.exit(2);
}
const run = picked.length > 0 ? picked : all;

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`);
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
let failed = 0;
for (const name of run) {
  console.log(`\n## ${name}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', `${name}.ts`)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(benchmark ${name} failed with exit code ${r.status})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
