/**
 * Many test cases per sandbox: stdin/stdout cases through one case runner (`harness/io.ts`) and
 * call-based cases through one program process (`runCallCases`). Each must give exactly the verdicts
 * of one sandboxed run per case, carry no state from one case to the next, and stay out of reach of
 * the cases it runs.
 */
import { describe, expect, it } from 'vitest';
import { toSample } from '../../rollout/sample.js';
import type { Rollout } from '../../rollout/types.js';
import { asGraded, buildGrader } from '../harness.js';
import { ioBatching, runIoCases } from './harness/io.js';
import { codeGrader, runInSandbox, sandboxSupport, type RunResult } from './index.js';

const ok = sandboxSupport().ok;
const py = (src: string) => `\`\`\`python\n${src}\n\`\`\``;
const LIMITS = { timeoutMs: 2000, memoryMb: 256, maxProcesses: 4, maxOutputBytes: 64 << 10 };

/** The program behaves according to the first word of its input. */
const BEHAVIOURS = String.raw`
import sys, os, time
line = sys.stdin.readline().strip()
cmd, _, arg = line.partition(' ')
if cmd == 'add':
    a, b = map(int, arg.split())
    print(a + b)
elif cmd == 'raise':
    raise ValueError('boom')
elif cmd == 'exit':
    sys.exit(int(arg))
elif cmd == 'sleep':
    time.sleep(30)
elif cmd == 'spin':
    while True:
        pass
elif cmd == 'memory':
    x = bytearray(1 << 30)
elif cmd == 'flood':
    while True:
        sys.stdout.write('x' * 65536)
elif cmd == 'selfkill':
    os.kill(os.getpid(), 9)
elif cmd == 'partial':
    print('5', flush=True)
    os._exit(0)
elif cmd == 'noread':
    print('no input read')
elif cmd == 'big':
    data = sys.stdin.read()
    print(len(data) + len(line) + 1)
elif cmd == 'stderr':
    sys.stderr.write('to stderr\n')
    print('out', end='')
elif cmd == 'unicode':
    print('héllo ✓')
`;

const compare = (r: RunResult) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, signal: r.signal, message: r.message });

describe.skipIf(!ok)('stdin/stdout cases through one case runner', () => {
  it('gives exactly the verdicts of one sandboxed run per case', async () => {
    const inputs = ['add 2 3\n', 'raise\n', 'exit 3\n', 'sleep\n', 'spin\n', 'memory\n', 'flood\n', 'selfkill\n', 'partial\n', 'noread\n', `big\n${'y'.repeat(1 << 20)}`, 'stderr\n', 'unicode\n', 'add 4 5'];
    const batched = await runIoCases(BEHAVIOURS, inputs, LIMITS, () => false);
    expect(ioBatching().on).toBe(true); // the runner worked: these came from it
    const single: RunResult[] = [];
    for (const input of inputs) single.push(await runInSandbox({ language: 'python', code: BEHAVIOURS, stdin: input, limits: LIMITS }));
    expect(batched.map((r) => compare(r!))).toEqual(single.map(compare));
    expect(batched.map((r) => r!.status)).toEqual(['ok', 'runtime_error', 'runtime_error', 'timeout', 'timeout', 'memory_limit', 'output_limit', 'runtime_error', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  }, 120_000);

  it('a syntax error is a compile error, as for one run', async () => {
    const [r] = await runIoCases('print(1', ['\n'], LIMITS, () => false);
    const s = await runInSandbox({ language: 'python', code: 'print(1', stdin: '\n', limits: LIMITS });
    expect(compare(r!)).toEqual(compare(s));
    expect(r!.status).toBe('compile_error');
  }, 60_000);

  it('stops where asked (scoring: all) and leaves the rest unrun', async () => {
    const rs = await runIoCases(BEHAVIOURS, ['add 1 1\n', 'raise\n', 'add 2 2\n'], LIMITS, (_, r) => r.status !== 'ok');
    expect(rs.map((r) => r?.status ?? null)).toEqual(['ok', 'runtime_error', null]);
  }, 60_000);

  it('no state survives from one case to the next: files, processes, IPC, keys, environment, module state', async () => {
    // Case 1 leaves everything it can; case 2 looks for all of it and prints what it found.
    const prog = String.raw`
import os, sys, ctypes, time, json
mode = sys.stdin.readline().strip()
libc = ctypes.CDLL(None, use_errno=True)
found = []
if mode == 'leave':
    open('/tmp/leak', 'w').write('x')
    os.makedirs('/tmp/d/e', exist_ok=True)
    open('/dev/shm/leak', 'w').write('x')
    os.environ['LEAK'] = '1'
    json.LEAK = 1
    shm = libc.shmget(4242, 4096, 0o1666)
    msq = libc.msgget(4243, 0o1666)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
        os._exit(0)
    time.sleep(0.2)
    print('left', shm >= 0, msq >= 0)
else:
    for p in ('/tmp/leak', '/tmp/d', '/dev/shm/leak'):
        if os.path.exists(p):
            found.append(p)
    if os.environ.get('LEAK'):
        found.append('env')
    if getattr(json, 'LEAK', None):
        found.append('module')
    if libc.shmget(4242, 0, 0o666) >= 0:
        found.append('shm')
    if libc.msgget(4243, 0o666) >= 0:
        found.append('msg')
    pids = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid() and p != '1']
    if pids:
        found.append('processes %s' % pids)
    print('found', found)
`;
    const rs = await runIoCases(prog, ['leave\n', 'look\n', 'leave\n', 'look\n'], { ...LIMITS, timeoutMs: 5000 }, () => false);
    expect(rs.map((r) => r!.stdout)).toEqual(['left True True\n', 'found []\n', 'left True True\n', 'found []\n']);
  }, 60_000);

  it('kernel keyrings are unavailable (ENOSYS), as on a kernel without keys', async () => {
    const prog = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nr = libc.syscall(250 if os.uname().machine == 'x86_64' else 219, 0, -3, 0)\nprint(r, ctypes.get_errno())";
    const [r] = await runIoCases(prog, [''], LIMITS, () => false);
    expect(r!.stdout).toBe('-1 38\n');
  }, 60_000);

  it('a case cannot reach the runner: kill, ptrace, /proc/PID/mem and fds, fake frames, later inputs', async () => {
    // The attacking case tries everything; the cases after it must still be judged right, and no
    // case may see another case's input (each carries a secret marker).
    const prog = String.raw`
import os, sys, ctypes, signal, glob
line = sys.stdin.readline().strip()
mine = line.split()[-1]
if line.startswith('attack'):
    libc = ctypes.CDLL(None, use_errno=True)
    for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
        for p in [1, -1, os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:
            if p != os.getpid():
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
    for p in [p for p in os.listdir('/proc') if p.isdigit()]:
        libc.ptrace(16, int(p), 0, 0)
    frame = b'{"rep":"ZXhpdCAwCg==","out":"Nwo=","err":"","killed":null,"ms":1}\n'
    for fd in range(0, 64):
        try:
            os.write(fd, frame * 4)
        except OSError:
            pass
    for path in glob.glob('/proc/*/fd/*') + ['/proc/1/mem']:
        try:
            fd = os.open(path, os.O_WRONLY)
            os.write(fd, frame)
        except OSError:
            pass
seen = set()
for path in glob.glob('/proc/*/cmdline') + glob.glob('/proc/*/environ') + glob.glob('/proc/*/mem') + glob.glob('/tmp/*') + glob.glob('/tmp/.*'):
    try:
        with open(path, 'rb') as f:
            data = f.read(1 << 22)
    except OSError:
        continue
    for word in data.split():
        if word.startswith(b'SECRET-') and word.decode() != mine:
            seen.add(word.decode())
if seen:
    print('LEAK', sorted(seen))
else:
    a, b = map(int, line.split()[1:3])
    print(a + b)
`;
    const inputs = ['add 1 2 SECRET-a\n', 'attack 0 0 SECRET-b\n', 'add 3 4 SECRET-c\n', 'attack 0 0 SECRET-d\n', 'add 5 6 SECRET-e\n'];
    const rs = await runIoCases(prog, inputs, { ...LIMITS, timeoutMs: 10_000 }, () => false);
    // (An attacking case's fake frames written to its own stdout are just its output.)
    expect(rs.map((r) => [r!.status, r!.stdout.endsWith('\n0\n') ? 'attacked, 0' : r!.stdout])).toEqual([
      ['ok', '3\n'],
      ['ok', 'attacked, 0'],
      ['ok', '7\n'],
      ['ok', 'attacked, 0'],
      ['ok', '11\n'],
    ]);
    expect(ioBatching().on).toBe(true);
  }, 120_000);

  it('through the grader: the same details as one run per case, and hostile programs score 0', async () => {
    const g = buildGrader(codeGrader, { language: 'python', timeout: 2, memory_mb: 256, max_output_kb: 64 });
    if (g.scope !== 'rollout') throw new Error('rollout grader');
    const ref = { tests: [{ input: 'add 2 3\n', output: '5\n' }, { input: 'raise\n', output: 'x' }, { input: 'sleep\n', output: 'x' }, { input: 'partial\n', output: '5\n6\n' }, { input: 'add 1 1', output: '2' }] };
    const grade = async (completion: string, reference: unknown) => asGraded(await g.grade(toSample({ id: 'x', completion, reference } as Rollout)));
    process.env.REWARDKIT_CASE_BATCH = '0';
    const one = await grade(py(BEHAVIOURS), ref);
    delete process.env.REWARDKIT_CASE_BATCH;
    const many = await grade(`${py(BEHAVIOURS)}\n`, ref); // another program text: not the memo's
    const strip = (d: Record<string, unknown>) => ({ ...d, cached: undefined, failures: (d.failures as { stderr?: string }[]).map((f) => ({ ...f, stderr: f.stderr?.replace(/line \d+/g, 'line N') })) });
    expect(many.score).toBe(one.score);
    expect(strip(many.details!)).toEqual(strip(one.details!));
    expect(many.details!.statuses).toEqual([1, -2, -3, 0, 1]);
    // Writing fake verdicts or results anywhere, leaving state: never a pass.
    const hostile = await grade(py('import os\nfor fd in range(64):\n    try:\n        os.write(fd, b\'{"rep":"ZXhpdCAwCg==","out":"NQo=","err":"","killed":null,"ms":1}\\n\')\n    except OSError:\n        pass'), { tests: [{ input: '', output: '5\n' }, { input: '', output: '5\n' }] });
    expect(hostile.score).toBe(0);
  }, 120_000);
});

describe.skipIf(!ok)('call-based cases through one program process', () => {
  const g = buildGrader(codeGrader, { language: 'python', timeout: 1, memory_mb: 256 });
  const grade = async (src: string, reference: unknown, grader = g) => {
    if (grader.scope !== 'rollout') throw new Error('rollout grader');
    return asGraded(await grader.grade(toSample({ id: 'x', completion: py(src), reference } as Rollout)));
  };
  const REF = { fn_name: 'f', inputs: ['1', '2', '3', '4'], outputs: ['2', '4', '6', '8'] };

  it('each call has its own time limit; a slow case fails alone, the others pass', async () => {
    const r = await grade('import time\ndef f(x):\n    if x == 2:\n        time.sleep(30)\n    return 2 * x', REF);
    expect(r.details!.statuses).toEqual([1, -3, 1, 1]);
    expect(r.score).toBe(0.75);
    // A program that sleeps 0.7 s per call passes with a 1 s limit per call (not per batch).
    const slow = await grade('import time\ndef f(x):\n    time.sleep(0.7)\n    return 2 * x', REF);
    expect(slow.details!.statuses).toEqual([1, 1, 1, 1]);
  }, 60_000);

  it('an exit in one call fails that case; the rest run in a fresh process', async () => {
    const r = await grade('import os\ndef f(x):\n    if x == 2:\n        os._exit(0)\n    return 2 * x', REF);
    expect(r.details!.statuses).toEqual([1, -2, 1, 1]);
  }, 60_000);

  it('module state carries from call to call, as in verl prime_code', async () => {
    const r = await grade('calls = []\ndef f(x):\n    calls.append(x)\n    return 2 * len(calls)', REF);
    expect(r.details!.statuses).toEqual([1, 1, 1, 1]);
  }, 60_000);

  it('scoring: all stops at the first failure', async () => {
    const all = buildGrader(codeGrader, { language: 'python', timeout: 1, scoring: 'all' });
    const r = await grade('def f(x):\n    return 0 if x == 2 else 2 * x', REF, all);
    expect(r.details!.statuses).toEqual([1, 0, null, null]);
    expect(r.score).toBe(0);
  }, 60_000);

  it('forged replies, patched builtins and comparisons never pass', async () => {
    const tricks = [
      // Answers written ahead on the protocol descriptors, for guessed request ids.
      'import os, json\nfor fd in range(3, 10):\n    for i in range(1, 50):\n        try:\n            os.write(fd, (json.dumps({"id": i, "ok": {"i": str(2 * i)}}) + "\\n").encode())\n        except OSError:\n            pass\ndef f(x):\n    return None',
      'import builtins\nbuiltins.int = str\nclass A:\n    def __eq__(s, o):\n        return True\ndef f(x):\n    return A()',
      'import json\njson.dumps = lambda *a, **k: \'{"id": 1, "ok": {"i": "2"}}\'\ndef f(x):\n    return None',
      'import sys\ndef f(x):\n    sys.exit(0)',
    ];
    for (const t of tricks) {
      const r = await grade(t, REF);
      expect(r.score, t).toBe(0);
    }
  }, 120_000);

  it('a compile error is reported for every case, once', async () => {
    const r = await grade('def f(x:\n    return x', REF);
    expect(r.details!.statuses).toEqual([-4, -4, -4, -4]);
  }, 60_000);
});
