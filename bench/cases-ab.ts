/**
 * Many test cases per sandbox, paired A/B in one process: Python test cases per second through the
 * `code` grader with case batching on (call-based cases of a program in one program process; assertion
 * blocks in one program process + one harness process; stdin/stdout cases in one process) and off (`REWARDKIT_CASE_BATCH=0`: one sandbox
 * per call-based or stdin/stdout case, one program + harness pair per assertion block), alternating
 * round by round so that background load hits both alike; plus the CPU time per case (the warm
 * pool's zygote's reaped children, and this process).
 *
 * Needs root. Run: npx tsx bench/cases-ab.ts [call,call12,assert,assert12,stdin,stdin12]   (ROUNDS=2, ROLLOUTS=16)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildGrader } from '../src/graders/harness.js';
import { codeGrader } from '../src/graders/code/index.js';
import { toSample } from '../src/rollout/sample.js';
const kinds: Record<string, { completion: (i: number) => string; reference: unknown }> = {
  call: { completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``, reference: { fn_name: 'add', inputs: ['1\n1', '2\n2', '3\n3', '4\n4'], outputs: ['2', '4', '6', '8'] } },
  call12: { completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``, reference: { fn_name: 'add', inputs: Array.from({ length: 12 }, (_, k) => `${k}\n${k}`), outputs: Array.from({ length: 12 }, (_, k) => `${2 * k}`) } },
  assert12: { completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``, reference: { assert: Array.from({ length: 12 }, (_, k) => `assert add(${k}, ${k}) == ${2 * k}`) } },
  stdin: { completion: (i) => `\`\`\`python\na, b = map(int, input().split())\nprint(a + b)  # ${i}\n\`\`\``, reference: { tests: [1, 2, 3, 4].map((k) => ({ input: `${k} ${k}\n`, output: `${2 * k}\n` })) } },
  stdin12: { completion: (i) => `\`\`\`python\na, b = map(int, input().split())\nprint(a + b)  # ${i}\n\`\`\``, reference: { tests: Array.from({ length: 12 }, (_, k) => ({ input: `${k} ${k}\n`, output: `${2 * k}\n` })) } },
  assert: { completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``, reference: { assert: ['assert add(1, 1) == 2', 'assert add(2, 2) == 4', 'assert add(3, 3) == 6', 'assert add(4, 4) == 8'] } },
};
const tck = 100;
function ppid(p: string) { try { return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]); } catch { return 0; } }
function zygote(): string | null {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let c = '';
    try { c = readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { continue; }
    if (c.split('\0')[1] !== '/tmp/.rk/zygote.py') continue;
    let q = Number(p);
    for (let k = 0; k < 10 && q > 1; k++) { q = ppid(String(q)); if (q === process.pid) return p; }
  }
  return null;
}
// A slot's zygote may be stopped and another started during a run: its CPU then counts as 0 (the measured rate stays exact).
function zcpu(z: string | null) { try { const f = readFileSync(`/proc/${z}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tck; } catch { return NaN; } }
const which = (process.argv[2] ?? 'call,call12').split(',');
const n = Number(process.env.ROLLOUTS ?? 16);
const g = buildGrader(codeGrader, { language: 'python', timeout: 30 }) as any;
let seq = 0;
const run = async (k: string) => {
  const z = zygote();
  const c0 = zcpu(z), u0 = process.cpuUsage(), t = performance.now();
  const out = await Promise.all(Array.from({ length: n }, () => g.grade(toSample({ id: 'x', completion: kinds[k]!.completion(seq++), reference: kinds[k]!.reference } as any))));
  if (out.some((o: any) => o.score !== 1)) throw new Error(JSON.stringify(out.find((o: any) => o.score !== 1)));
  await new Promise((r) => setTimeout(r, 300));
  const u = process.cpuUsage(u0);
  const sand = zcpu(z) - c0, node = (u.user + u.system) / 1e6;
  return { ms: (sand * 1000) / (n * (k.endsWith('12') ? 12 : 4)), nodeMs: (node * 1000) / (n * (k.endsWith('12') ? 12 : 4)), rate: (n * (k.endsWith('12') ? 12 : 4)) / ((performance.now() - t - 300) / 1000) };
};
await (await import('../src/graders/code/index.js')).runInSandbox({ language: 'python', code: 'print(1)' });
await run('call');
console.log('load', loadavg()[0].toFixed(1));
for (const k of which) {
  for (let round = 0; round < Number(process.env.ROUNDS ?? 2); round++)
    for (const mode of ['off', 'on']) {
      process.env.REWARDKIT_CASE_BATCH = mode === 'on' ? '1' : '0';
      const r = await run(k);
      console.log(`${k.padEnd(7)} batch ${mode.padEnd(3)}  sandbox CPU ${r.ms.toFixed(1)} ms/case  node CPU ${r.nodeMs.toFixed(1)} ms/case  → ${(2000 / (r.ms + r.nodeMs)).toFixed(0)} cases/s CPU-bound on 2 cores; measured ${r.rate.toFixed(1)} cases/s`);
    }
}
console.log('load', loadavg()[0].toFixed(1));
process.exit(0);
