import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outputsMatch } from './compare.js';
import { extractCode, fencedBlocks } from './extract.js';
import { decodeValue, FusionRequestError, parseCodeTests, parseJsonExact, parseRunCodeRequest, resultMatches, toFusionResponse, type RunCodeResponse, type RunResult } from './index.js';

describe('extractCode', () => {
  it('takes the last block tagged with the language', () => {
    const t = 'Plan:\n```python\nprint(1)\n```\nBetter:\n```py\nprint(2)\n```\nExample:\n```\n3\n```\n```js\nconsole.log(4)\n```\n';
    expect(extractCode(t, 'python')).toEqual({ code: 'print(2)', source: 'tagged_block', tag: 'py' });
    expect(extractCode(t, 'javascript')).toEqual({ code: 'console.log(4)', source: 'tagged_block', tag: 'js' });
  });
  it('falls back to the last untagged block, then any block, then the whole text', () => {
    expect(extractCode('```\na = 1\n```\n```text\nout\n```', 'python')).toMatchObject({ code: 'a = 1', source: 'untagged_block' });
    expect(extractCode('```cpp\nint main(){}\n```', 'python')).toMatchObject({ code: 'int main(){}', source: 'other_block', tag: 'cpp' });
    expect(extractCode('print(5)', 'python')).toEqual({ code: 'print(5)', source: 'whole_text', tag: '' });
  });
  it('handles tildes, longer fences with inner backticks, indentation, CRLF and an unclosed last block', () => {
    expect(extractCode('~~~python\nx = 1\n~~~', 'python').code).toBe('x = 1');
    expect(extractCode('````python\ns = """\n```\n"""\nprint(s)\n````', 'python').code).toBe('s = """\n```\n"""\nprint(s)');
    expect(extractCode('  ```python\r\nprint(1)\r\n  ```\r\n', 'python').code).toBe('print(1)');
    expect(extractCode('Here:\n```python\nprint(1)\nprint(2', 'python')).toMatchObject({ code: 'print(1)\nprint(2', source: 'tagged_block' });
    expect(fencedBlocks('```python title="a.py"\nx\n```')).toEqual([{ tag: 'python', body: 'x' }]);
  });
});

describe('outputsMatch (testlib lcmp rules)', () => {
  it('ignores runs of spaces, line-edge whitespace, CRLF and trailing blank lines', () => {
    expect(outputsMatch('1  2\t3 \r\n4\n\n\n', '1 2 3\n4')).toBe(true);
    expect(outputsMatch('  yes', 'yes\n')).toBe(true);
    expect(outputsMatch('', '\n\n')).toBe(true);
  });
  it('keeps line structure, blank lines in the middle and token text', () => {
    expect(outputsMatch('1 2', '1\n2')).toBe(false);
    expect(outputsMatch('a\n\nb', 'a\nb')).toBe(false);
    expect(outputsMatch('Yes', 'yes')).toBe(false);
    expect(outputsMatch('1.0', '1')).toBe(false);
    expect(outputsMatch('1 2', '1 2 3')).toBe(false);
  });
  it('compares numbers with a tolerance when asked', () => {
    expect(outputsMatch('0.3333333', '0.333333333', { floatTolerance: 1e-6 })).toBe(true);
    expect(outputsMatch('1000001', '1000000', { floatTolerance: 1e-6 })).toBe(true); // relative to |expected|
    expect(outputsMatch('0.34', '0.333333333', { floatTolerance: 1e-6 })).toBe(false);
    expect(outputsMatch('abc', 'abd', { floatTolerance: 1 })).toBe(false);
  });
  it('is reflexive and invariant under whitespace re-spacing (property)', () => {
    const token = fc.stringMatching(/^[a-z0-9.-]{1,4}$/);
    const lines = fc.array(fc.array(token, { maxLength: 4 }), { maxLength: 5 });
    fc.assert(
      fc.property(lines, fc.constantFrom(' ', '  ', '\t', ' \t '), fc.constantFrom('\n', '\r\n'), (ls, sep, nl) => {
        const canon = ls.map((l) => l.join(' ')).join('\n');
        const spaced = ls.map((l) => `${sep}${l.join(sep)}${sep}`).join(nl) + nl + nl;
        expect(outputsMatch(canon, canon)).toBe(true);
        expect(outputsMatch(spaced, canon)).toBe(true);
        if (ls.some((l) => l.length > 0)) expect(outputsMatch(`${canon} extra`, canon)).toBe(false);
      }),
    );
  });
});

describe('parseCodeTests', () => {
  it('reads every accepted reference form', () => {
    expect(parseCodeTests({ tests: [{ input: '1', output: 2 }, { output: ['a', 'b'] }] })).toMatchObject({
      kind: 'io',
      tests: [
        { input: '1', output: '2' },
        { input: '', output: 'a\nb' },
      ],
    });
    expect(parseCodeTests(JSON.stringify({ inputs: ['1\n'], outputs: ['1\n'] }))).toMatchObject({ kind: 'io', tests: [{ input: '1\n', output: '1\n' }] });
    expect(parseCodeTests({ assert: 'assert f(1) == 1' })).toMatchObject({ kind: 'assert', blocks: ['assert f(1) == 1'] });
    expect(parseCodeTests({ assert: ['assert 1', 'assert 2'] })).toMatchObject({ kind: 'assert', blocks: ['assert 1', 'assert 2'] });
    // verl / Skywork / evalplus / Sandbox Fusion / APPS / prime_code shapes
    expect(parseCodeTests({ assert_case: ['assert f(1) == 1', ' '], import_prefix: 'import math' })).toEqual({
      kind: 'assert',
      cases: [{ kind: 'assert', block: 'assert f(1) == 1' }],
      blocks: ['assert f(1) == 1'],
      prefix: 'import math',
    });
    expect(parseCodeTests({ assert_case: 'def check(candidate):\n    assert candidate(1)\n', entry_point: 'f' })).toMatchObject({
      blocks: ['def check(candidate):\n    assert candidate(1)\n\ncheck(f)\n'],
    });
    expect(parseCodeTests({ assert: 'def check(candidate):\n    pass\ncheck(g)', entry_point: 'f' })).toMatchObject({ blocks: ['def check(candidate):\n    pass\ncheck(g)'] });
    expect(parseCodeTests({ inputs: ['', '1 2'], outputs: ['', '3'], assert_case: ['assert f(1)', ''] })).toMatchObject({
      kind: 'mixed',
      cases: [{ kind: 'assert', block: 'assert f(1)' }, { kind: 'io', input: '1 2', output: '3' }],
    });
    expect(parseCodeTests({ fn_name: 'f', inputs: [[1, [2, 3]]], outputs: [[5]] })).toEqual({ kind: 'call', cases: [{ kind: 'call', fn: 'f', args: ['1', '[2,3]'], expected: [5] }] });
    expect(parseCodeTests(JSON.stringify({ fn_name: 'f', inputs: ['1\n"a"\n'], outputs: ['123456789012345678901234567890'] }))).toEqual({
      kind: 'call',
      cases: [{ kind: 'call', fn: 'f', args: ['1', '"a"'], expected: 123456789012345678901234567890n }],
    });
  });
  it('reads APPS/TACO rows (input_output as a JSON string)', () => {
    const row = { problem_id: 1, input_output: JSON.stringify({ fn_name: 'f', inputs: [[1]], outputs: [[2]] }) };
    expect(parseCodeTests(row)).toMatchObject({ kind: 'call', cases: [{ fn: 'f', args: ['1'], expected: [2] }] });
    expect(parseCodeTests({ input_output: { inputs: ['1\n'], outputs: ['2\n'] } })).toMatchObject({ kind: 'io', tests: [{ input: '1\n', output: '2\n' }] });
    expect(parseCodeTests({ input_output: { input_output: '{}' } })).toHaveProperty('error');
  });
  it('explains unusable references', () => {
    expect(parseCodeTests('42')).toHaveProperty('error');
    expect(parseCodeTests('not json')).toHaveProperty('error');
    expect(parseCodeTests({ tests: [] })).toHaveProperty('error');
    expect(parseCodeTests({ tests: [{ input: '1' }] })).toHaveProperty('error');
    expect(parseCodeTests({ inputs: [[1]], outputs: [[2]], fn_name: 'f(x)' })).toMatchObject({ error: expect.stringContaining('fn_name') });
    expect(parseCodeTests({ inputs: ['1 2'], outputs: ['3'], fn_name: 'f' })).toMatchObject({ error: expect.stringContaining('JSON lines') });
    expect(parseCodeTests({ inputs: [5], outputs: [5], fn_name: 'f' })).toMatchObject({ error: expect.stringContaining('inputs[0]') });
    expect(parseCodeTests({ inputs: ['1'], outputs: ['1'], assert_case: ['a', 'b'] })).toMatchObject({ error: expect.stringContaining('assert_case') });
    expect(parseCodeTests({ inputs: ['1'], outputs: [] })).toHaveProperty('error');
    expect(parseCodeTests({ assert: [] })).toHaveProperty('error');
    expect(parseCodeTests({ assert_case: ['', '  '] })).toMatchObject({ error: expect.stringContaining('no test code') });
    expect(parseCodeTests({ assert: 'x', import_prefix: 3 })).toMatchObject({ error: expect.stringContaining('import_prefix') });
    expect(parseCodeTests({ other: 1 })).toHaveProperty('error');
  });
});

describe('call-based comparison (as verl prime_code)', () => {
  const py = { language: 'python' as const, floatTolerance: 0 };
  const jsO = { language: 'javascript' as const, floatTolerance: 0 };
  const v = (x: unknown) => decodeValue(x);
  it('Python equality: ints, floats, bools, tuples as lists, dict keys, one-element wrapping', () => {
    expect(resultMatches(v({ i: '3' }), 3, py)).toBe(true);
    expect(resultMatches(v({ f: '3.0' }), 3, py)).toBe(true);
    expect(resultMatches(v(true), 1, py)).toBe(true);
    expect(resultMatches(v(true), 1, jsO)).toBe(false);
    expect(resultMatches(v({ t: [{ i: '1' }, 'a'] }), [1, 'a'], py)).toBe(true);
    expect(resultMatches(v({ l: [{ t: [{ i: '1' }, { i: '2' }] }] }), [[[1, 2]]], py)).toBe(true);
    expect(resultMatches(v({ d: [[{ i: '1' }, 'a']] }), { 1: 'a' }, py)).toBe(true);
    expect(resultMatches(v({ d: [['1', 'a']] }), { 1: 'a' }, py)).toBe(true);
    expect(resultMatches(v({ d: [['1', 'a'], ['2', 'b']] }), { 1: 'a' }, py)).toBe(false);
    expect(resultMatches(v({ i: '5' }), [5], py)).toBe(true);
    expect(resultMatches(v({ l: [{ i: '5' }] }), [5], py)).toBe(true);
    expect(resultMatches(v({ i: '5' }), [], py)).toBe(false);
    expect(resultMatches(v({ i: '123456789012345678901234567891' }), parseJsonExact('123456789012345678901234567890'), py)).toBe(false);
    expect(resultMatches(v({ i: '123456789012345678901234567890' }), parseJsonExact('123456789012345678901234567890'), py)).toBe(true);
    expect(resultMatches(v(null), null, py)).toBe(true);
    expect(resultMatches(v({ u: 1 }), null, jsO)).toBe(true);
  });
  it('sets, bytes, handles and NaN never equal JSON; tolerance applies to floats only when asked', () => {
    expect(resultMatches(v({ s: [{ i: '1' }] }), [1], py)).toBe(false);
    expect(resultMatches(v({ h: 1, r: 'A' }), 1, py)).toBe(false);
    expect(resultMatches(v({ b: 'YQ==' }), 'a', py)).toBe(false);
    expect(resultMatches(v({ f: 'nan' }), NaN, py)).toBe(false);
    expect(resultMatches(v({ f: '0.30000000000000004' }), 0.3, py)).toBe(false);
    expect(resultMatches(v({ f: '0.30000000000000004' }), 0.3, { ...py, floatTolerance: 1e-9 })).toBe(true);
  });
  it('rejects malformed replies', () => {
    for (const bad of [{ i: '1.5' }, { zz: 1 }, [1], 5, { l: 3 }, { d: [[1]] }, { o: [[1, 2]] }]) expect(() => decodeValue(bad)).toThrow();
  });
});

describe('Sandbox Fusion /run_code mapping', () => {
  it('reads requests field by field', () => {
    expect(parseRunCodeRequest({ code: 'print(1)', language: 'python', run_timeout: 2.5, memory_limit_MB: -1 })).toEqual({
      code: 'print(1)', language: 'python', stdin: undefined, compileTimeoutS: 10, runTimeoutS: 2.5, memoryMb: 4096, files: {}, fetchFiles: [],
    });
    const r = parseRunCodeRequest({ code: 'x', language: 'cpp', stdin: '1', compile_timeout: 3, memory_limit_MB: 128, files: { 'a/b.txt': 'eA==', skipped: null }, fetch_files: ['out.txt'] });
    expect({ ...r, files: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, v.toString()])) }).toEqual({
      code: 'x', language: 'cpp', stdin: '1', compileTimeoutS: 3, runTimeoutS: 10, memoryMb: 128, files: { 'a/b.txt': 'x' }, fetchFiles: ['out.txt'],
    });
    const field = (b: unknown) => {
      try {
        parseRunCodeRequest(b);
      } catch (e) {
        if (e instanceof FusionRequestError) return e.field;
        throw e;
      }
      return null;
    };
    expect(field({ language: 'python' })).toBe('code');
    expect(field({ code: 'x', language: 'klingon' })).toBe('language');
    expect(field({ code: 'x', language: '__proto__' })).toBe('language');
    expect(field({ code: 'x', language: 'python', run_timeout: 0 })).toBe('run_timeout');
    expect(field({ code: 'x', language: 'python', compile_timeout: -1 })).toBe('compile_timeout');
    expect(field({ code: 'x', language: 'python', memory_limit_MB: 0 })).toBe('memory_limit_MB');
    expect(field({ code: 'x', language: 'python', files: { '/etc/passwd': 'eA==' } })).toBe('files["/etc/passwd"]');
    expect(field({ code: 'x', language: 'python', files: { 'a/../../x': 'eA==' } })).toBe('files["a/../../x"]');
    expect(field({ code: 'x', language: 'python', files: { 'a.txt': 5 } })).toBe('files["a.txt"]');
    expect(field({ code: 'x', language: 'python', files: { 'a.txt': 'not base64!' } })).toBe('files["a.txt"]');
    expect(field({ code: 'x', language: 'python', fetch_files: ['../x'] })).toBe('fetch_files[0]');
    expect(field({ code: 'x', language: 'python', fetch_files: ['/tmp/x'] })).toBe('fetch_files[0]');
    expect(field({ code: 'x', language: 'python', fetch_files: 'x' })).toBe('fetch_files');
    expect(field({ code: 'x', language: 'lua' })).toBeNull(); // a Sandbox Fusion language: accepted, answered with a SandboxError
  });
  it('writes responses that verl classifies as Sandbox Fusion would', () => {
    const r = (over: Partial<RunResult>): RunResult => ({ status: 'ok', exitCode: 0, signal: null, stdout: 'o', stderr: 'e', wallMs: 1500, ...over });
    // verl's rule, restated: SandboxError → −1; Failed with a failed compile → −4; run TLE → −3;
    // run Error or non-zero exit → −2; Success and Finished → compare stdout.
    const verl = (b: RunCodeResponse) => {
      if (b.status === 'SandboxError') return -1;
      if (b.status === 'Failed') {
        if (b.compile_result && (b.compile_result.status !== 'Finished' || b.compile_result.return_code !== 0)) return -4;
        if (b.run_result?.status === 'TimeLimitExceeded') return -3;
        if (b.run_result && (b.run_result.status === 'Error' || b.run_result.return_code !== 0)) return -2;
        return -1;
      }
      return b.run_result?.status === 'Finished' ? 1 : -1;
    };
    const none = { files: {}, fetchSkipped: [] };
    expect(toFusionResponse({ compile: null, run: r({}), ...none })).toEqual({
      status: 'Success',
      message: '',
      compile_result: null,
      run_result: { status: 'Finished', execution_time: 1.5, return_code: 0, stdout: 'o', stderr: 'e' },
      executor_pod_name: null,
      files: {},
    });
    const cases: [Partial<RunResult> | null, Partial<RunResult> | null, number][] = [
      [null, {}, 1],
      [{}, {}, 1],
      [{ status: 'runtime_error', exitCode: 1 }, null, -4],
      [{ status: 'timeout', exitCode: null, signal: 'SIGKILL' }, null, -4],
      [{}, { status: 'timeout', exitCode: null, signal: 'SIGKILL' }, -3],
      [null, { status: 'compile_error', exitCode: 1 }, -2], // a Python syntax error: Sandbox Fusion has no compile phase for Python
      [null, { status: 'runtime_error', exitCode: 3 }, -2],
      [null, { status: 'runtime_error', exitCode: null, signal: 'SIGSEGV' }, -2],
      [null, { status: 'memory_limit', exitCode: 1 }, -2],
      [null, { status: 'output_limit', exitCode: null, signal: 'SIGKILL' }, -2],
      [null, { status: 'sandbox_error', exitCode: null, message: 'no root' }, -1],
      [{ status: 'sandbox_error', exitCode: null, message: 'no root' }, null, -1],
    ];
    for (const [c, x, code] of cases) expect(verl(toFusionResponse({ compile: c && r(c), run: x && r(x), ...none })), JSON.stringify([c, x])).toBe(code);
    expect(toFusionResponse({ compile: null, run: r({ status: 'runtime_error', exitCode: null, signal: 'SIGSEGV' }), ...none }).run_result!.return_code).toBe(-11);
    expect(toFusionResponse({ compile: null, run: r({ status: 'timeout', exitCode: null, signal: 'SIGKILL' }), ...none }).run_result).toMatchObject({ status: 'TimeLimitExceeded', return_code: null });
    expect(toFusionResponse({ compile: null, run: r({}), files: { 'o.bin': Buffer.from([0, 255]) }, fetchSkipped: [] }).files).toEqual({ 'o.bin': 'AP8=' });
  });
});
