/**
 * `/run_code` as Sandbox Fusion, language by language, against the real sandbox: the response schema
 * field by field (hello world stdin → stdout, a compile error, a runtime error, a time-out,
 * files/fetch_files), the sealed root and the missing network for every language, and hostile C
 * programs. A language whose toolchain this machine lacks is skipped with one printed line.
 */
import { describe, expect, it } from 'vitest';
import { parseRunCodeRequest, runFusion, type CommandRunResult, type RunCodeResponse } from './fusion.js';
import { openSandboxes, sandboxSupport, toolchainAvailable, type SandboxLanguage } from './sandbox.js';

const sandboxOk = sandboxSupport().ok;
if (!sandboxOk) console.log(`languages.test: skipped, ${sandboxSupport().reason}`);

interface LanguageCase {
  /** Sandbox Fusion language name. */
  name: string;
  sandbox: SandboxLanguage;
  compiled: boolean;
  /** Reads one line, prints it back. */
  echo: string;
  /** Does not compile (interpreted: fails when loaded). */
  broken: string;
  /** Exits with code 3 after printing "partial". */
  exit3: string;
  /** Loops forever. */
  spin: string;
  /** Reads data/in.txt, writes its content upper-cased to out.txt. */
  files: string;
  /** Prints "work=<0|1> passwd=<0|1> net=<0|1>": whether /work exists, /etc/passwd exists, a TCP connection to 1.1.1.1:53 or 127.0.0.1:22 opened. */
  probe: string;
}

const C_PROBE = `#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
static int net(const char *ip, int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 0;
  struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_port = htons(port); inet_pton(AF_INET, ip, &a.sin_addr);
  int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0; close(s); return ok;
}
int main(void) {
  printf("work=%d passwd=%d net=%d\\n", access("/work", F_OK) == 0, access("/etc/passwd", F_OK) == 0, net("1.1.1.1", 53) || net("127.0.0.1", 22));
  return 0;
}
`;

const CASES: LanguageCase[] = [
  {
    name: 'python', sandbox: 'python', compiled: false,
    echo: 'print(input())',
    broken: 'def f(:\n  pass',
    exit3: 'import sys\nprint("partial")\nsys.exit(3)',
    spin: 'while True: pass',
    files: 'open("out.txt","w").write(open("data/in.txt").read().upper())',
    probe: 'import os, socket\ndef net():\n  for a in [("1.1.1.1", 53), ("127.0.0.1", 22)]:\n    try:\n      socket.create_connection(a, timeout=1); return 1\n    except OSError: pass\n  return 0\nprint(f"work={int(os.path.exists(\'/work\'))} passwd={int(os.path.exists(\'/etc/passwd\'))} net={net()}")',
  },
  {
    name: 'nodejs', sandbox: 'javascript', compiled: false,
    echo: 'process.stdout.write(require("fs").readFileSync(0, "utf8").split("\\n")[0] + "\\n")',
    broken: 'function f( {',
    exit3: 'console.log("partial"); process.exit(3)',
    spin: 'for (;;) {}',
    files: 'const fs = require("fs"); fs.writeFileSync("out.txt", fs.readFileSync("data/in.txt", "utf8").toUpperCase())',
    probe: 'const fs = require("fs"), net = require("net");\nconst tryc = (host, port) => new Promise((r) => { const s = net.connect({ host, port, timeout: 1000 }); s.on("connect", () => { s.destroy(); r(1); }); s.on("error", () => r(0)); s.on("timeout", () => { s.destroy(); r(0); }); });\n(async () => { const n = (await tryc("1.1.1.1", 53)) || (await tryc("127.0.0.1", 22)); console.log(`work=${+fs.existsSync("/work")} passwd=${+fs.existsSync("/etc/passwd")} net=${n}`); })();',
  },
  {
    name: 'typescript', sandbox: 'javascript', compiled: true,
    echo: 'const line: string = require("fs").readFileSync(0, "utf8").split("\\n")[0];\nprocess.stdout.write(line + "\\n");',
    broken: 'const x: number = ;',
    exit3: 'const code: number = 3; console.log("partial"); process.exit(code);',
    spin: 'for (;;) {}',
    files: 'import * as fs from "fs";\nfs.writeFileSync("out.txt", fs.readFileSync("data/in.txt", "utf8").toUpperCase());',
    probe: 'import * as fs from "fs";\nimport * as net from "net";\nconst tryc = (host: string, port: number) => new Promise<number>((r) => { const s = net.connect({ host, port, timeout: 1000 }); s.on("connect", () => { s.destroy(); r(1); }); s.on("error", () => r(0)); s.on("timeout", () => { s.destroy(); r(0); }); });\n(async () => { const n = (await tryc("1.1.1.1", 53)) || (await tryc("127.0.0.1", 22)); console.log(`work=${+fs.existsSync("/work")} passwd=${+fs.existsSync("/etc/passwd")} net=${n}`); })();',
  },
  {
    name: 'c', sandbox: 'c', compiled: true,
    echo: '#include <stdio.h>\nint main(void){char s[256]; if(!fgets(s,sizeof s,stdin)) return 1; fputs(s,stdout); return 0;}',
    broken: 'int main(void) { return x; }',
    exit3: '#include <stdio.h>\nint main(void){puts("partial"); return 3;}',
    spin: 'int main(void){volatile int x=0; for(;;) x++;}',
    files: '#include <stdio.h>\n#include <ctype.h>\nint main(void){FILE*i=fopen("data/in.txt","r"),*o=fopen("out.txt","w"); int c; if(!i||!o) return 1; while((c=fgetc(i))!=EOF) fputc(toupper(c),o); fclose(o); return 0;}',
    probe: C_PROBE,
  },
  {
    name: 'cpp', sandbox: 'cpp', compiled: true,
    echo: '#include <bits/stdc++.h>\nint main(){std::string s; std::getline(std::cin, s); std::cout << s << "\\n";}',
    broken: 'int main() { std::vector<int> v; }',
    exit3: '#include <iostream>\nint main(){std::cout << "partial" << std::endl; return 3;}',
    spin: 'int main(){volatile int x=0; for(;;) x++;}',
    files: '#include <fstream>\n#include <cctype>\nint main(){std::ifstream i("data/in.txt"); std::ofstream o("out.txt"); char c; if(!i||!o) return 1; while(i.get(c)) o.put(std::toupper(c));}',
    probe: C_PROBE,
  },
  {
    name: 'java', sandbox: 'java', compiled: true,
    echo: 'import java.io.*;\npublic class Main { public static void main(String[] a) throws IOException { System.out.println(new BufferedReader(new InputStreamReader(System.in)).readLine()); } }',
    broken: 'public class Main { public static void main(String[] a) { int x = "s"; } }',
    exit3: 'public class Main { public static void main(String[] a) { System.out.println("partial"); System.exit(3); } }',
    spin: 'public class Main { public static void main(String[] a) { long x = 0; while (true) x++; } }',
    files: 'import java.nio.file.*;\npublic class Main { public static void main(String[] a) throws Exception { Files.writeString(Path.of("out.txt"), Files.readString(Path.of("data/in.txt")).toUpperCase()); } }',
    probe: 'import java.io.*; import java.net.*;\npublic class Main {\n static int net(String h, int p) { try (Socket s = new Socket()) { s.connect(new InetSocketAddress(h, p), 1000); return 1; } catch (Exception e) { return 0; } }\n public static void main(String[] a) { int n = net("1.1.1.1", 53) == 1 || net("127.0.0.1", 22) == 1 ? 1 : 0; System.out.println("work=" + (new File("/work").exists() ? 1 : 0) + " passwd=" + (new File("/etc/passwd").exists() ? 1 : 0) + " net=" + n); } }',
  },
  {
    name: 'go', sandbox: 'go', compiled: true,
    echo: 'package main\nimport ("bufio"; "fmt"; "os")\nfunc main() { s := bufio.NewScanner(os.Stdin); s.Scan(); fmt.Println(s.Text()) }',
    broken: 'package main\nfunc main() { x := 1 }',
    exit3: 'package main\nimport ("fmt"; "os")\nfunc main() { fmt.Println("partial"); os.Exit(3) }',
    spin: 'package main\nfunc main() { x := 0; for { x++ } }',
    files: 'package main\nimport ("os"; "strings")\nfunc main() { b, err := os.ReadFile("data/in.txt"); if err != nil { os.Exit(1) }; os.WriteFile("out.txt", []byte(strings.ToUpper(string(b))), 0644) }',
    probe: 'package main\nimport ("fmt"; "net"; "os"; "time")\nfunc ex(p string) int { if _, err := os.Stat(p); err == nil { return 1 }; return 0 }\nfunc dial(a string) int { c, err := net.DialTimeout("tcp", a, time.Second); if err != nil { return 0 }; c.Close(); return 1 }\nfunc main() { n := dial("1.1.1.1:53") | dial("127.0.0.1:22"); fmt.Printf("work=%d passwd=%d net=%d\\n", ex("/work"), ex("/etc/passwd"), n) }',
  },
  {
    name: 'rust', sandbox: 'rust', compiled: true,
    echo: 'use std::io::*;\nfn main() { let mut s = String::new(); stdin().read_line(&mut s).unwrap(); print!("{}", s); }',
    broken: 'fn main() { let x: i32 = "s"; }',
    exit3: 'fn main() { println!("partial"); std::process::exit(3); }',
    spin: 'fn main() { loop {} }',
    files: 'fn main() { let s = std::fs::read_to_string("data/in.txt").unwrap(); std::fs::write("out.txt", s.to_uppercase()).unwrap(); }',
    probe: 'use std::net::*; use std::time::Duration; use std::path::Path;\nfn dial(a: &str) -> i32 { match TcpStream::connect_timeout(&a.parse::<SocketAddr>().unwrap(), Duration::from_secs(1)) { Ok(_) => 1, Err(_) => 0 } }\nfn main() { let n = if dial("1.1.1.1:53") == 1 || dial("127.0.0.1:22") == 1 { 1 } else { 0 }; println!("work={} passwd={} net={}", Path::new("/work").exists() as i32, Path::new("/etc/passwd").exists() as i32, n); }',
  },
  {
    name: 'bash', sandbox: 'bash', compiled: false,
    echo: 'read -r line; echo "$line"',
    broken: 'if then fi (',
    exit3: 'echo partial; exit 3',
    spin: 'while :; do :; done',
    files: 'tr a-z A-Z < data/in.txt > out.txt',
    probe: 'w=0; p=0; n=0; [ -e /work ] && w=1; [ -e /etc/passwd ] && p=1; (exec 3<>/dev/tcp/1.1.1.1/53) 2>/dev/null && n=1; (exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null && n=1; echo "work=$w passwd=$p net=$n"',
  },
];

const RESPONSE_KEYS = ['compile_result', 'executor_pod_name', 'files', 'message', 'run_result', 'status'];
const COMMAND_KEYS = ['execution_time', 'return_code', 'status', 'stderr', 'stdout'];

function expectCommand(c: CommandRunResult | null): CommandRunResult {
  expect(c).not.toBeNull();
  expect(Object.keys(c!).sort()).toEqual(COMMAND_KEYS);
  expect(['Finished', 'Error', 'TimeLimitExceeded']).toContain(c!.status);
  expect(typeof c!.execution_time).toBe('number');
  expect(c!.execution_time!).toBeGreaterThanOrEqual(0);
  expect(typeof c!.stdout).toBe('string');
  expect(typeof c!.stderr).toBe('string');
  return c!;
}

/** Checks the response's shape field by field and returns it. */
function expectShape(r: RunCodeResponse, compiled: boolean): RunCodeResponse {
  expect(Object.keys(r).sort()).toEqual(RESPONSE_KEYS);
  expect(['Success', 'Failed', 'SandboxError']).toContain(r.status);
  expect(typeof r.message).toBe('string');
  expect(r.executor_pod_name).toBeNull();
  expect(typeof r.files).toBe('object');
  if (compiled) expectCommand(r.compile_result);
  else expect(r.compile_result).toBeNull();
  if (r.run_result !== null) expectCommand(r.run_result);
  return r;
}

async function run(body: Record<string, unknown>): Promise<RunCodeResponse> {
  return runFusion(parseRunCodeRequest(body));
}

for (const c of CASES) {
  const tool = toolchainAvailable(c.sandbox);
  if (sandboxOk && !tool.ok) console.log(`languages.test: ${c.name} skipped, ${tool.reason}`);
  describe.skipIf(!sandboxOk || !tool.ok)(`/run_code ${c.name}`, () => {
    it('hello world: stdin → stdout, Success, every field', async () => {
      const r = expectShape(await run({ code: c.echo, language: c.name, stdin: 'hello world\n', compile_timeout: 30, run_timeout: 10, memory_limit_MB: -1, files: {}, fetch_files: [] }), c.compiled);
      expect(r.status, JSON.stringify(r)).toBe('Success');
      expect(r.message).toBe('');
      if (c.compiled) expect(r.compile_result).toMatchObject({ status: 'Finished', return_code: 0 });
      expect(r.run_result).toMatchObject({ status: 'Finished', return_code: 0, stdout: 'hello world\n' });
      expect(r.files).toEqual({});
    });

    it('a compile error: Failed; compiled languages report compile_result with a non-zero code and no run_result', async () => {
      const r = expectShape(await run({ code: c.broken, language: c.name, compile_timeout: 30 }), c.compiled);
      expect(r.status, JSON.stringify(r)).toBe('Failed');
      if (c.compiled) {
        expect(r.compile_result!.status).toBe('Finished');
        expect(r.compile_result!.return_code).not.toBe(0);
        expect(r.compile_result!.stderr!.length).toBeGreaterThan(0);
        expect(r.run_result).toBeNull();
      } else {
        expect(r.run_result!.status).toBe('Finished');
        expect(r.run_result!.return_code).not.toBe(0);
      }
    });

    it('a runtime error: Failed, run_result Finished with the exit code and the output so far', async () => {
      const r = expectShape(await run({ code: c.exit3, language: c.name, compile_timeout: 30 }), c.compiled);
      expect(r.status).toBe('Failed');
      expect(r.run_result).toMatchObject({ status: 'Finished', return_code: 3, stdout: 'partial\n' });
    });

    it('a time-out: Failed, run_result TimeLimitExceeded with no return code', async () => {
      const r = expectShape(await run({ code: c.spin, language: c.name, compile_timeout: 30, run_timeout: 1 }), c.compiled);
      expect(r.status).toBe('Failed');
      expect(r.run_result).toMatchObject({ status: 'TimeLimitExceeded', return_code: null });
    });

    it('files are written before the run; fetch_files come back base64 (a missing one is left out)', async () => {
      const r = expectShape(
        await run({ code: c.files, language: c.name, compile_timeout: 30, files: { 'data/in.txt': Buffer.from('abc xyz\n').toString('base64') }, fetch_files: ['out.txt', 'missing.txt', 'data/in.txt'] }),
        c.compiled,
      );
      expect(r.status, JSON.stringify(r)).toBe('Success');
      expect(Object.keys(r.files).sort()).toEqual(['data/in.txt', 'out.txt']);
      expect(Buffer.from(r.files['out.txt']!, 'base64').toString()).toBe('ABC XYZ\n');
    });

    it('the sealed root hides the host (/work, /etc/passwd) and there is no network', async () => {
      const r = expectShape(await run({ code: c.probe, language: c.name, compile_timeout: 30, run_timeout: 10 }), c.compiled);
      expect(r.run_result!.stdout, JSON.stringify(r)).toBe('work=0 passwd=0 net=0\n');
    });
  });
}

describe.skipIf(!sandboxOk)('/run_code files and fetch_files, hostile', () => {
  it('a fetched symlink reaches only what the program itself may read (not the init\'s /proc/1/environ)', async () => {
    const code = 'import os\nos.symlink("/proc/1/environ", "leak")\nos.symlink("/proc/self/status", "own")\nos.mkfifo("fifo")\nprint("ok")';
    const r = await run({ code, language: 'python', fetch_files: ['leak', 'own', 'fifo', 'nothing'] });
    expect(r.status, JSON.stringify(r)).toBe('Success');
    expect(Object.keys(r.files)).toEqual(['own']); // its own status is readable: only ever the sandbox's own view
  });
  it('a path that is both a file and a directory is a SandboxError naming it, not a crash', async () => {
    const r = await run({ code: 'print(1)', language: 'python', files: { a: 'eA==', 'a/b': 'eA==' } });
    expect(r).toMatchObject({ status: 'SandboxError', run_result: null });
    expect(r.message).toMatch(/"a" is both a file and a directory/);
  });
});

const hasC = sandboxOk && toolchainAvailable('c').ok;
describe.skipIf(!hasC)('/run_code hostile C programs', () => {
  it('fork in a loop stops at the process limit (and the children die with the run)', async () => {
    const code = '#include <stdio.h>\n#include <unistd.h>\nint main(void){int n=0; for(int i=0;i<10000;i++){pid_t p=fork(); if(p==0){pause(); _exit(0);} if(p<0) break; n++;} printf("forked=%d\\n", n); return 0;}';
    const r = await run({ code, language: 'c' });
    expect(r.status, JSON.stringify(r)).toBe('Success');
    const n = Number(/forked=(\d+)/.exec(r.run_result!.stdout!)?.[1]);
    expect(n).toBeLessThanOrEqual(16); // the default process limit (8) plus the runtime's allowance, far below 10000
  });

  it('an interactive session of a compiled language: compiled first, then stdin/stdout are the program\'s', async () => {
    const [sess] = await openSandboxes([{ language: 'c', code: '#include <stdio.h>\nint main(void){int x; while(scanf("%d",&x)==1){printf("%d\\n",x*2); fflush(stdout);} return 0;}' }]);
    let out = '';
    sess!.stdout.on('data', (d: Buffer) => (out += d.toString()));
    sess!.stdin.end('1\n2\n21\n');
    const r = await sess!.result;
    expect(r.status, JSON.stringify(r)).toBe('ok');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toBe('2\n4\n42\n');
    const [bad] = await openSandboxes([{ language: 'c', code: 'int main(void){ return y; }' }]);
    bad!.stdin.end();
    expect(await bad!.result).toMatchObject({ status: 'compile_error' });
  });

  it('the run phase has its own file-size limit (16 MiB), not the compiler\'s (128 MiB)', async () => {
    const code = '#include <stdio.h>\n#include <string.h>\nint main(void){static char b[1<<20]; memset(b,1,sizeof b); FILE*f=fopen("big","w"); for(int i=0;i<20;i++){ if(fwrite(b,1,sizeof b,f)!=sizeof b) { puts("short"); return 4; } fflush(f);} puts("wrote 20 MiB"); return 0;}';
    const r = await run({ code, language: 'c' });
    expect(r.status).toBe('Failed');
    expect(r.run_result!.stdout).not.toContain('wrote 20 MiB');
    expect(r.run_result!.return_code).toBe(-25); // SIGXFSZ
  });

  it('cannot read /proc/1/environ (the namespace init is root and hidden)', async () => {
    const code = '#include <stdio.h>\nint main(void){FILE*f=fopen("/proc/1/environ","r"); if(!f){puts("denied"); return 0;} int c,n=0; while((c=fgetc(f))!=EOF) n++; printf("read=%d\\n", n); return 0;}';
    const r = await run({ code, language: 'c' });
    expect(r.run_result!.stdout).toBe('denied\n');
  });

  it('cannot write outside /tmp (the root is read-only), can write inside it', async () => {
    const code = '#include <stdio.h>\nint main(void){const char*p[]={"/x","/usr/x","/etc/x","/usr/lib/x86_64-linux-gnu/x","/proc/x","/tmp/ok"}; for(int i=0;i<6;i++){FILE*f=fopen(p[i],"w"); printf("%s=%d\\n",p[i],f!=0); if(f) fclose(f);} return 0;}';
    const r = await run({ code, language: 'c' });
    expect(r.run_result!.stdout).toBe('/x=0\n/usr/x=0\n/etc/x=0\n/usr/lib/x86_64-linux-gnu/x=0\n/proc/x=0\n/tmp/ok=1\n');
  });

  it('the compiler is sealed too: #include of a host file fails without printing it', async () => {
    const r = await run({ code: '#include "/etc/passwd"\n#include "/work/wt/COMMON.md"\nint main(void){return 0;}', language: 'c' });
    expect(r.status).toBe('Failed');
    expect(r.compile_result!.return_code).not.toBe(0);
    expect(r.compile_result!.stderr).toMatch(/No such file or directory/);
    expect(r.compile_result!.stderr).not.toMatch(/root:x:0:0/);
  });

  it.skipIf(!toolchainAvailable('cpp').ok)('a compile that outlasts compile_timeout is a compile TimeLimitExceeded, and nothing runs', async () => {
    // Constant evaluation of ~4·10^10 steps (within g++'s per-loop and total limits) keeps the compiler busy for minutes.
    const code = 'constexpr long f() { long s = 0; for (long i = 0; i < 200000; i++) for (long j = 0; j < 200000; j++) s += i ^ j; return s; }\nstatic_assert(f() != 1, "");\nint main() { return 0; }';
    const r = await run({ code, language: 'cpp', compile_timeout: 1 });
    expect(r).toMatchObject({ status: 'Failed', compile_result: { status: 'TimeLimitExceeded', return_code: null }, run_result: null });
  });

  it('memory_limit_MB is an address-space limit; -1 is the sandbox ceiling', async () => {
    const code = '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint main(void){char*p=malloc(300<<20); if(!p){puts("nomem"); return 2;} memset(p,1,300<<20); puts("ok"); return 0;}';
    const small = await run({ code, language: 'c', memory_limit_MB: 128 });
    expect(small.run_result).toMatchObject({ status: 'Finished', return_code: 2, stdout: 'nomem\n' });
    const unlimited = await run({ code, language: 'c', memory_limit_MB: -1 });
    expect(unlimited.run_result).toMatchObject({ status: 'Finished', return_code: 0, stdout: 'ok\n' });
  });
});
