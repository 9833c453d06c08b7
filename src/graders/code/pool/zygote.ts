/**
 * The Python processes of a warm sandbox slot (see `warm.ts`, docs/warm-pool.md): a worker that
 * runs as root and as pid 1 of one long-lived sealed sandbox, and a forker (root, in the sandbox's
 * mount, network, IPC and UTS namespaces and sealed root, outside its pid namespace) that forks each
 * program's process into it; the worker never forks a program, so its own per-program work takes no
 * copy-on-write page faults. Both come from one interpreter (the same sealed root, namespaces
 * and skeleton as a cold run), having imported only what it needs (ctypes, select, _socket,
 * resource, binascii; never `random`, `threading` or anything holding per-process state, which each
 * program imports fresh).
 *
 * **Created once per slot** (by the host's launcher script and the worker's start-up): the pid,
 * mount, network (empty, loopback down), IPC and UTS namespaces, the `pivot_root`ed read-only sealed
 * root, `/proc` (hidepid=2) of the slot's pid namespace, the warm interpreter with a prepared
 * `__main__`, `sys.argv` and `sys.path[0]` (bound at start and its code and read-only data on huge
 * pages: `_rk_bind_now`, `_rk_huge_code`), an empty capability bounding set and ambient set and
 * no_new_privs (inherited by every program's process; the worker never executes anything). The
 * worker keeps an `O_PATH` descriptor on the host's socket directory (bind-mounted at `/tmp/.rk` by
 * the launcher) and detaches that mount: nothing in the slot's file tree leads to the host.
 *
 * **Per program**: ahead of the request the worker resets the pid counter (`ns_last_pid`: every
 * program sees the pids a fresh namespace gives) and has the forker fork the program's process
 * (which joins the worker's process group), which waits on a pipe for one line: id, uid and limits, sent when the host's request arrives on the worker's stdin
 * (`R <id> <uid> <tmpMb> <cpuSoft> <cpuHard> <addressSpaceBytes> <nproc> <fileBytes> <openFiles>
 * <nfetch>`; the host's control pipe, nothing else holds it). The program's process (still root)
 * connects by itself to the host's socket for its stdin (`i`: the payload, then the program's stdin),
 * stdout (`o`) and stderr (`e`), enters a fresh IPC namespace of its own (SysV objects and POSIX
 * queues die with the program), becomes the run's uid/gid with no supplementary groups, writes the
 * payload (source and files) into `/tmp` as that uid, sets the rlimits (CPU soft/hard, address
 * space, processes, file size, open files, no core), joins a new session keyring, and returns to the
 * module's top level, where it runs as `python3 prog.py` in `/tmp`: the source compiled and executed
 * as `__main__`; a SyntaxError or an uncaught exception is printed exactly as the interpreter prints
 * it (no worker frame). Interpreter shutdown is emulated in what a program can observe (non-daemon
 * threads joined, atexit, the program's objects finalised and cycles collected, stdio flushed, exit
 * 120 when stdout cannot be flushed) before `_exit`: a full finalisation would write to every page
 * inherited from the worker.
 *
 * When the program's process ends (the forker reaps it and reports its status and CPU time to the
 * worker), or on `K <id>` (the host's kill), the worker SIGKILLs every other
 * process of the slot (`kill(-1)`: as pid 1 it is the only survivor; orphans are re-parented to it)
 * and reaps them until it has no child, then reports on its stdout (the program holds no descriptor
 * of it) the exit status and the CPU time of all the program's processes (`X <id> <rc> <user>
 * <sys>`, rc = 128 + signal, or `X <id> setup <step>` when the set-up failed, said on a pipe only the
 * set-up code held). Requested files are read back by a process forked for it, as the run's uid,
 * which gets the list from the host on its own connection (`f`) and writes `file <i> <base64> <rc>`
 * lines back on it; then `D <id>`: the run is over for the host.
 *
 * **Between programs** the worker proves the slot clean before it takes the next one (`I`): no
 * process but itself (it has no child), no abstract unix socket left in the slot's network namespace
 * (`/proc/net/unix`, retried briefly for sockets the kernel's garbage collector still holds), the
 * network namespace's counters unchanged (`/proc/net/snmp`, `/proc/net/netstat`, `/proc/net/snmp6`),
 * and `/tmp` and `/dev/shm` replaced by fresh empty tmpfs (the old ones detached with whatever was in
 * them). A slot that cannot prove it is clean says why (`U <why>`) and exits; the host starts
 * another. No program's source, input, output or files ever pass through the worker's memory (which
 * every later program inherits): only command lines (ids, uids, limits, counts) do.
 */

/** Source of the worker (run as `python3 /tmp/.rk/zygote.py` inside the slot's sandbox). */
export const ZYGOTE_PY = String.raw`import sys, os
import _signal, select, ctypes, _socket, binascii, resource, builtins, gc, atexit

_RK_LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWIPC, CLONE_NEWPID = 0x08000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 2, 4, 8, 32
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 4, 24, 38, 47, 4
_RK_LIBC.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_RK_LIBC.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
_RK_LIBC.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_RK_LIBC.unshare.argtypes = (ctypes.c_int,)
_RK_LIBC.syscall.restype = ctypes.c_long
# The capabilities left in the worker's bounding set (the launcher drops every other one):
# chown, dac_override, kill, setgid, setuid, setpcap, sys_admin.
_RK_CAPS = (0, 1, 5, 6, 7, 8, 21)
_RK_KEYCTL = {'x86_64': 250, 'aarch64': 219}.get(os.uname().machine)
_RK_NET = ('/proc/net/snmp', '/proc/net/netstat', '/proc/net/snmp6')


def _rk_sys(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, '%s: %s' % (what, os.strerror(e)))


def _rk_mount(src, at, fstype, flags, data):
    _rk_sys(_RK_LIBC.mount(src, at, fstype, flags, data), 'mount ' + at.decode())


def _rk_write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _RkSetup(Exception):
    pass


def _rk_step(name, fn, *args):
    try:
        return fn(*args)
    except Exception as e:
        raise _RkSetup(name + ' (' + str(e)[:200].replace('\n', ' ') + ')')


def _rk_connect(path, head):
    """A connection to the host's socket; head: b'<id> <kind>\\n'."""
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(head)
    return s.detach()


def _rk_exact(fd, n):
    """Exactly n bytes from fd (never more: what follows the payload on stdin is the program's)."""
    parts = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError('payload cut short')
        parts.append(chunk)
        n -= len(chunk)
    return b''.join(parts)


def _rk_become(uid):
    """In a program's process, root: become the run's uid and gid, no supplementary groups (every
    capability goes with root; the bounding and ambient sets are already empty, no_new_privs set)."""
    if not 0 < uid < 0x7fffffff:
        raise ValueError('bad uid')
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _rk_limits(lim):
    """As the run's uid: the limits, a session keyring of its own (the worker's is shared by every
    program of the slot), and /proc/self readable by the program (setresuid cleared "dumpable")."""
    cpu_soft, cpu_hard, as_bytes, nproc, fsize, nofile = lim
    R = resource
    R.setrlimit(R.RLIMIT_CORE, (0, 0))
    R.setrlimit(R.RLIMIT_NOFILE, (nofile, nofile))
    R.setrlimit(R.RLIMIT_CPU, (cpu_soft, cpu_hard))
    R.setrlimit(R.RLIMIT_AS, (as_bytes, as_bytes))
    R.setrlimit(R.RLIMIT_NPROC, (nproc, nproc))
    R.setrlimit(R.RLIMIT_FSIZE, (fsize, fsize))
    if _RK_KEYCTL is not None and _RK_LIBC.syscall(_RK_KEYCTL, 1, None) == -1 and ctypes.get_errno() != 38:
        _rk_sys(-1, 'keyctl')
    _rk_sys(_RK_LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 'dumpable')


def _rk_seal():
    """Once, in the worker: an empty capability bounding set and ambient set, and no_new_privs, for
    every process forked from it (the worker keeps the capabilities it holds: it never executes anything)."""
    for cap in _RK_CAPS:
        _rk_sys(_RK_LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), 'capbset')
    _rk_sys(_RK_LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'ambient')
    _rk_sys(_RK_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'no_new_privs')


def _rk_put(path, data):
    """Writes a file of the payload into /tmp, as the run's uid (so it owns it)."""
    parts = path.split('/')
    d = '/tmp'
    for p in parts[:-1]:
        d = d + '/' + p
        try:
            os.mkdir(d, 0o755)
        except FileExistsError:
            pass
    fd = os.open('/tmp/' + path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        _rk_write(fd, data)
    finally:
        os.close(fd)


_rk_src = None


def _rk_program(rid, uid, lim, sock, setup_w):
    """The program's process, forked from the forker (root until _rk_become). Returns only to run the
    program, whose source it leaves in _rk_src (as written to /tmp/prog.py). (One try and a step name
    rather than a wrapper per step: each object this process allocates or touches costs it a page
    fault.)"""
    global _rk_src
    rep = setup_w
    step = 'start'
    try:
        # (Signal dispositions and the wakeup fd are the forker's: the defaults, see _rk_start.)
        # In the worker's process group, as a process the worker forked (not a group leader: setsid works).
        os.setpgid(0, 1)
        step = 'connect'
        i = _rk_connect(sock, rid + b' i\n')
        o = _rk_connect(sock, rid + b' o\n')
        e = _rk_connect(sock, rid + b' e\n')
        step = 'start'
        os.dup2(setup_w, 3)
        rep = 3
        os.dup2(i, 0)
        os.dup2(o, 1)
        os.dup2(e, 2)
        os.closerange(4, 1 << 16)
        step = 'unshare'
        _rk_sys(_RK_LIBC.unshare(CLONE_NEWIPC), 'unshare')
        step = 'drop'
        _rk_become(uid)
        # The payload, on stdin ahead of the program's input: a 16-byte header length, the header
        # ("<source bytes> <files>", then "<bytes> <path>" per file), the source, the files.
        step = 'write'
        head = _rk_exact(0, int(_rk_exact(0, 16))).decode('utf-8', 'surrogateescape').split('\n')
        step = 'start'
        src_len, nfiles = head[0].split()
        step = 'write'
        _rk_src = _rk_exact(0, int(src_len))
        _rk_put('prog.py', _rk_src)
        for i in range(1, 1 + int(nfiles)):
            n, path = head[i].split(' ', 1)
            _rk_put(path, _rk_exact(0, int(n)))
        head = None
        step = 'start'
        os.chdir('/tmp')
        step = 'drop'
        _rk_limits(lim)
    except BaseException as e:
        try:
            _rk_write(rep, ('setup %s (%s)\n' % (step, str(e)[:200].replace('\n', ' '))).encode())
        finally:
            os._exit(125)
    os.close(3)
    return True


def _rk_fetch(rid, uid, sock):
    """Forked after the program: reads back the requested files as the run's uid (the list comes from the host)."""
    try:
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        fd = _rk_connect(sock, rid + b' f\n')
        os.dup2(fd, 3)
        os.closerange(4, 1 << 16)
        null = os.open('/dev/null', os.O_RDWR)
        for i in range(3):
            os.dup2(null, i)
        _rk_become(uid)
        _rk_limits((5, 6, 256 << 20, 8, 512, 64))
        names = _rk_exact(3, int(_rk_exact(3, 16))).decode('utf-8', 'surrogateescape').split('\n')
        for i, path in enumerate(names):
            p = '/tmp/' + path
            if not path or not os.path.isfile(p):
                continue
            try:
                with open(p, 'rb') as fh:
                    data = fh.read()
                line = '%d %s 0\n' % (i, binascii.b2a_base64(data, newline=False).decode('ascii'))
            except OSError:
                line = '%d  1\n' % i
            _rk_write(3, ('file ' + line).encode())
    finally:
        os._exit(0)


def _rk_fresh_tmp(mb, first=False):
    """/tmp and /dev/shm: the old tmpfs (and anything left in it) detached, a fresh empty one mounted."""
    for at, inodes in ((b'/tmp', 4096), (b'/dev/shm', 256)):
        if _RK_LIBC.umount2(at, MNT_DETACH) != 0 and not first:
            _rk_sys(-1, 'umount')
        _rk_mount(b'rk', at, b'tmpfs', MS_NOSUID | MS_NODEV, b'size=%dm,nr_inodes=%d,mode=1777' % (mb, inodes))


def _rk_read(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        parts = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b''.join(parts)
            parts.append(chunk)
    finally:
        os.close(fd)


def _rk_unclean(net):
    """Why the slot is not clean after a program (None: it is)."""
    # No process but the worker: it is pid 1, every orphan of the slot is re-parented to it, so "no
    # child" means no other process in the slot's pid namespace.
    try:
        os.waitpid(-1, os.WNOHANG)
        return 'a process left'
    except ChildProcessError:
        pass
    # A socket with an abstract name ("@name") could be reached by the next program (one bound to a
    # path was in the old /tmp; unnamed ones cannot be reached; the host's ends of the program's
    # stdio connections show the host socket's path). Retried briefly: the kernel's garbage
    # collector may still hold a socket that was in flight.
    for i in range(40):
        if b' @' not in (_rk_read('/proc/net/unix') or b''):
            break
        select.select([], [], [], 0.0005 * (i + 1))
    else:
        return 'an abstract unix socket left in the network namespace'
    if tuple(_rk_read(p) for p in _RK_NET) != net:
        return 'network namespace counters changed'
    return None


def _rk_waiting(go_r, setup_w, sock):
    """A program's process forked ahead of its request: waits for its id, uid and limits."""
    data = os.read(go_r, 512)
    while not data.endswith(b'\n'):
        chunk = os.read(go_r, 512)
        if not chunk:
            os._exit(0)
        data += chunk
    global _rk_cases
    f = data.split()
    _rk_cases = len(f) > 8 and int(f[8]) > 0
    return _rk_program(f[0], int(f[1]), tuple(map(int, f[2:8])), sock, setup_w)


def _rk_forker_end(worker, cmd_r, rep_w):
    """The forker's end (the worker is gone, or a fork or report failed): the worker sees these
    pipes close, and exits if it has not; the forker reaps it and exits."""
    try:
        os.close(rep_w)
        os.close(cmd_r)
        os.waitpid(worker, 0)
    finally:
        os._exit(0)


def _rk_forker(worker, cmd_r, rep_w, go_r, setup_w, sock):
    """The forker (outside the slot's pid namespace, whose children are born in it): on each byte
    from the worker it forks the next program's process ("p": it exists, in the slot's pid
    namespace), waits for it and reports its exit status and CPU time ("<status> <user> <sys>").
    It does nothing else, so that forking (which makes every page of this process copy-on-write)
    costs few page faults here. When the worker is gone it reaps it and exits. Returns only in a
    program's process."""
    global _rk_src, _rk_cases
    if _RK_NATIVE is not None:
        # The compiled loop (native.ts): the same loop and the program's set-up, in C.
        srcp = ctypes.c_void_p()
        n = _RK_NATIVE.rk_forker(cmd_r, rep_w, go_r, setup_w, sock.encode(), ctypes.byref(srcp))
        if n >= 0:
            _rk_src = ctypes.string_at(srcp.value, n)
            _rk_cases = _RK_NATIVE.rk_case_mode() > 0
            return True
        _rk_forker_end(worker, cmd_r, rep_w)
    # (Short writes to a pipe are atomic: plain os.write.)
    read, fork, write, wait4 = os.read, os.fork, os.write, os.wait4
    pid = -1
    try:
        while read(cmd_r, 1):
            pid = fork()
            if pid == 0:
                break
            write(rep_w, b'p\n')
            _, st, ru = wait4(pid, 0)
            write(rep_w, b'%d %.6f %.6f\n' % (st, ru.ru_utime, ru.ru_stime))
            pid = -1
    except OSError:
        pid = -1
    if pid != 0:
        _rk_forker_end(worker, cmd_r, rep_w)
    os.close(cmd_r)
    os.close(rep_w)
    return _rk_waiting(go_r, setup_w, sock)


class _RkMmMap(ctypes.Structure):
    """struct prctl_mm_map (PR_SET_MM_MAP): where the kernel finds what /proc/PID/environ shows."""
    _fields_ = [(n, ctypes.c_uint64) for n in ('start_code', 'end_code', 'start_data', 'end_data', 'start_brk', 'brk',
        'start_stack', 'arg_start', 'arg_end', 'env_start', 'env_end', 'auxv')] + [('auxv_size', ctypes.c_uint32), ('exe_fd', ctypes.c_uint32)]


_RK_BIND = b'LD_BIND_NOW=zygote'


def _rk_bind_now():
    """Once, at the slot's start: the interpreter starts again (exec) with LD_BIND_NOW in its
    environment, so that its calls into the C library are bound here, once, rather than on first
    call in every program's process (the calls that only a forked child makes: ~14 page faults and
    the symbol look-ups in each). Then LD_BIND_NOW goes, from the environment and from what
    /proc/PID/environ shows (the end of the environment block, moved back with PR_SET_MM_MAP), so
    that programs see a cold run's environment. Skipped where the kernel cannot move that end, or
    when the environment binds already."""
    name, value = _RK_BIND.split(b'=')
    bound = os.environb.get(name)
    if bound is not None and bound != value:
        return
    stat = _rk_read('/proc/self/stat')
    f = stat[stat.rindex(b')') + 2:].split()
    mm = _RkMmMap(*(int(f[k - 3]) for k in (26, 27, 45, 46, 47)), 0, *(int(f[k - 3]) for k in (28, 48, 49, 50, 51)), 0, 0, 0xffffffff)
    _RK_LIBC.sbrk.restype = ctypes.c_void_p
    if bound is None:
        # PR_SET_MM, PR_SET_MM_MAP with the values unchanged: whether the kernel allows it.
        mm.brk = _RK_LIBC.sbrk(0)
        if _RK_LIBC.prctl(35, 14, ctypes.addressof(mm), ctypes.sizeof(mm), 0) != 0:
            return
        env = dict(os.environb)
        env[name] = value
        os.execve(sys.executable, sys.orig_argv, env)
    # Started again: LD_BIND_NOW is the last string of the environment block (execve's order).
    if not (b'\0' + ctypes.string_at(mm.env_start, mm.env_end - mm.env_start)).endswith(b'\0' + _RK_BIND + b'\0'):
        raise OSError('LD_BIND_NOW is not at the end of the environment')
    mm.env_end -= len(_RK_BIND) + 1
    mm.brk = _RK_LIBC.sbrk(0)
    _rk_sys(_RK_LIBC.prctl(35, 14, ctypes.addressof(mm), ctypes.sizeof(mm), 0), 'environ')
    del os.environ['LD_BIND_NOW']


def _rk_huge_code():
    """Once, in the forker before anything is forked from it: the 2 MiB-aligned parts of the
    interpreter's code and read-only data (the read-only mappings of the file that holds the
    interpreter's eval loop: the executable, or libpython) are replaced, at the same addresses and
    with the same bytes, by anonymous memory on transparent huge pages (read and execute only). A
    forked process then inherits them as a few huge-page entries instead of faulting in, page by
    page, the code it runs (each page costs a fault on this kind of VM). Skipped, with nothing
    changed, when the kernel gives no huge page."""
    lib = ctypes.CDLL(None, use_errno=True)
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    lib.mmap.restype = lib.mremap.restype = vp
    lib.mmap.argtypes = (vp, sz, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
    lib.mremap.argtypes = (vp, sz, sz, ctypes.c_int, vp)
    lib.madvise.argtypes = lib.mprotect.argtypes = (vp, sz, ctypes.c_int)
    lib.munmap.argtypes = (vp, sz)
    huge = 2 << 20
    anchor = ctypes.cast(ctypes.pythonapi.PyEval_EvalCode, vp).value
    maps = []
    with open('/proc/self/maps') as fh:
        for line in fh:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split('-'))
            maps.append((lo, hi, f[1], f[3] + ' ' + f[4] if f[4] != '0' else None))
    # The run of contiguous read-only mappings of that file around the anchor.
    i = next(k for k, m in enumerate(maps) if m[0] <= anchor < m[1])
    ident = maps[i][3]
    if ident is None:
        return
    lo_i = hi_i = i
    while lo_i > 0 and maps[lo_i - 1][3] == ident and maps[lo_i - 1][1] == maps[lo_i][0] and 'w' not in maps[lo_i - 1][2]:
        lo_i -= 1
    while hi_i + 1 < len(maps) and maps[hi_i + 1][3] == ident and maps[hi_i + 1][0] == maps[hi_i][1] and 'w' not in maps[hi_i + 1][2]:
        hi_i += 1
    start = (maps[lo_i][0] + huge - 1) & -huge
    size = (maps[hi_i][1] & -huge) - start
    if size <= 0:
        return
    raw = lib.mmap(None, size + huge, 3, 0x22, -1, 0)
    if raw is None or raw == ctypes.c_void_p(-1).value:
        return
    tmp = (raw + huge - 1) & -huge
    if tmp > raw:
        lib.munmap(raw, tmp - raw)
    lib.munmap(tmp + size, raw + huge - tmp)
    # MADV_HUGEPAGE, then MADV_COLLAPSE: fails unless the copy is on huge pages.
    if lib.madvise(tmp, size, 14) != 0:
        lib.munmap(tmp, size)
        return
    ctypes.memmove(tmp, start, size)
    if lib.madvise(tmp, size, 25) != 0 or lib.mprotect(tmp, size, 5) != 0:
        lib.munmap(tmp, size)
        return
    # MREMAP_MAYMOVE | MREMAP_FIXED: the old mappings there go, atomically.
    if lib.mremap(tmp, size, size, 3, start) != start:
        lib.munmap(tmp, size)


_RK_NATIVE = None
# The probe's program and input: what programs commonly do (read and parse input, define and call
# functions, build lists, format and print).
_RK_PROBE = (b'import sys\na, b = map(int, input().split())\n\n\ndef f(n):\n    return [i * i for i in range(n) if i % 2]\n\n\nprint(a + b, f(a + b), sys.argv[0], "%s" % {"k": [b]})\n', b'3 4\n')
_rk_probe = False
# Case mode (native.ts, rk_cases): this program's process supervises the cases of a stdin/stdout test.
_rk_cases = False
# Whether the probe runs (the host sets False for REWARDKIT_POOL_PREFAULT=0, see warm.ts).
_RK_PREFAULT = True
# Modules imported before any program's process is forked (the host sets them: ZygoteSetup.preload).
_RK_PRELOAD = ()


_RK_FORK_HOOKS = ('PyOS_BeforeFork', 'PyOS_AfterFork_Parent', 'PyOS_AfterFork_Child')


def _rk_load_native():
    """Once, at the slot's start: the compiled forker (native.ts), when the host put it in /tmp/.rk
    and the interpreter exports its fork hooks (which the compiled forker calls as os.fork does);
    without it the Python forker below runs (the same steps)."""
    global _RK_NATIVE
    if not os.path.exists('/tmp/.rk/rkfork.so') or not all(hasattr(ctypes.pythonapi, name) for name in _RK_FORK_HOOKS):
        return
    lib = ctypes.PyDLL('/tmp/.rk/rkfork.so')
    lib.rk_forker.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
    lib.rk_forker.restype = lib.rk_learn.restype = lib.rk_cases.restype = lib.rk_case_mode.restype = ctypes.c_long
    lib.rk_learn.argtypes = (ctypes.c_char_p,)
    lib.rk_init.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    lib.rk_init(*(ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p) for name in _RK_FORK_HOOKS))
    _RK_NATIVE = lib


def _rk_start():
    """The slot's start: this process (root, in the slot's mount, network, IPC and UTS namespaces)
    warms up, then creates the slot's pid namespace, whose pid 1 (forked from here) is the worker
    that talks to the host; this one stays outside it as the forker."""
    global _rk_src, _rk_probe
    _rk_bind_now()
    _rk_huge_code()
    _rk_load_native()
    # Every program's process inherits this process's signal state: the defaults, no wakeup fd.
    _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
    _signal.set_wakeup_fd(-1)
    dirfd = os.open('/tmp/.rk', os.O_PATH | os.O_DIRECTORY)
    sock = '/proc/self/fd/%d/sock' % dirfd
    _rk_fresh_tmp(1, True)
    _rk_seal()
    _rk_prepare_main()
    for name in _RK_PRELOAD:
        __import__(name)
    _rk_warm(sock)
    gc.collect()
    gc.freeze()
    if _RK_NATIVE is not None and _RK_PREFAULT and _RK_NATIVE.rk_learn(_RK_PROBE[1]) == -2:
        # The probe (native.ts, rk_learn), outside the slot's pid namespace: runs the sample
        # program as a program's process runs one, and reports the pages it wrote.
        _rk_src = _RK_PROBE[0]
        _rk_probe = True
        return True
    _rk_fresh_tmp(1)
    # Worker -> forker: one byte per program; forker -> worker: exit reports. Worker -> program:
    # its parameters (go); program's set-up -> worker: why the set-up failed.
    cmd_r, cmd_w = os.pipe2(os.O_CLOEXEC)
    rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    setup_r, setup_w = os.pipe2(os.O_CLOEXEC)
    _rk_sys(_RK_LIBC.unshare(CLONE_NEWPID), 'unshare pid')
    gc.collect()
    gc.freeze()
    worker = os.fork()
    if worker == 0:
        for fd in (cmd_r, rep_w, setup_w):
            os.close(fd)
        _rk_sys(_RK_LIBC.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), 'pdeathsig')
        os.set_blocking(setup_r, False)
        _rk_serve(sock, cmd_w, rep_r, go_w, setup_r, go_r)
        os._exit(0)
    for fd in (cmd_w, rep_r, go_w, setup_r):
        os.close(fd)
    # The host's pipes are the worker's only.
    null = os.open('/dev/null', os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    return _rk_forker(worker, cmd_r, rep_w, go_r, setup_w, sock)


def _rk_serve(sock, cmd_w, rep_r, go_w, setup_r, go_r):
    """The worker, pid 1 of the slot's pid namespace: the host's requests, one program at a time
    (each forked by the forker ahead of its request), the kill of everything a program left, the
    reports and the clean-up. It never forks a program itself (only a fetch process, when files are
    requested), so its own memory stays unshared and its work costs no page faults."""
    os.setpgid(0, 0)
    # /proc of the slot's pid namespace (the launcher's shows the host's).
    _RK_LIBC.umount2(b'/proc', MNT_DETACH)
    _rk_mount(b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, b'hidepid=2')
    tmp_mb = 1
    net = tuple(_rk_read(p) for p in _RK_NET)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _signal.signal(_signal.SIGCHLD, lambda *a: None)
    _signal.set_wakeup_fd(wake_w)
    poll = select.poll()
    poll.register(0, select.POLLIN)
    poll.register(wake_r, select.POLLIN)
    poll.register(rep_r, select.POLLIN)
    buf = b''
    _rk_next(cmd_w)
    _rk_write(1, b'ready %d\n' % os.getpid())
    while True:
        # Waits for the next program (the host sends one only after "ready" or "I").
        while b'\n' not in buf:
            data = os.read(0, 65536)
            if not data:
                os._exit(0)
            buf += data
        i = buf.find(b'\n')
        msg = buf[:i].split()
        buf = buf[i + 1:]
        if not msg or msg[0] != b'R':
            continue
        rid = msg[1]
        t0 = os.times()
        try:
            uid, mb = int(msg[2]), int(msg[3])
            lim = tuple(int(x) for x in msg[4:10])
            nfetch = int(msg[10])
            # Case mode (native.ts, rk_cases): each case's wall-clock limit (ms) and output budget.
            cases = b' %d %d' % (int(msg[11]), int(msg[12])) if len(msg) > 12 else b''
            if mb != tmp_mb:
                for at, inodes in ((b'/tmp', 4096), (b'/dev/shm', 256)):
                    _rk_mount(b'rk', at, b'tmpfs', MS_REMOUNT | MS_NOSUID | MS_NODEV, b'size=%dm,nr_inodes=%d,mode=1777' % (mb, inodes))
                tmp_mb = mb
            _rk_write(go_w, b'%s %d %d %d %d %d %d %d%s\n' % ((rid, uid) + lim + (cases,)))
        except (OSError, ValueError) as e:
            _rk_write(1, b'F %s %s\n' % (rid, str(e).encode()[:200].replace(b'\n', b' ')))
            os._exit(0)
        _rk_write(1, b'S %s 2\n' % rid)
        status = None
        killed = False
        helper = None
        done = False
        rep = b''
        last = b''
        while not done:
            for fd, ev in poll.poll():
                if fd == rep_r:
                    data = os.read(rep_r, 4096)
                    if not data:
                        os._exit(0)
                    rep += data
                    while b'\n' in rep:
                        i = rep.find(b'\n')
                        line = rep[:i]
                        rep = rep[i + 1:]
                        if line != b'p':
                            status = line.split()
                        elif killed:
                            # Killed before its process existed: it goes now.
                            try:
                                os.kill(-1, 9)
                            except OSError:
                                pass
                if fd == wake_r:
                    try:
                        while os.read(wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                if fd == wake_r or fd == rep_r:
                    while True:
                        try:
                            p, st = os.waitpid(-1, os.WNOHANG)
                        except ChildProcessError:
                            p = -1
                        if p <= 0:
                            break
                        if p == helper:
                            helper = -1
                    if status is not None and helper is None:
                        # The program's process is gone (the forker reaped it): nothing else of
                        # the run may outlive it (its orphans are this process's children).
                        while True:
                            try:
                                os.kill(-1, 9)
                            except OSError:
                                pass
                            try:
                                os.waitpid(-1, 0)
                            except ChildProcessError:
                                break
                        t = os.times()
                        try:
                            why = os.read(setup_r, 4096).decode('utf-8', 'replace').strip()
                        except BlockingIOError:
                            why = ''
                        st = int(status[0])
                        if why.startswith('setup '):
                            out = b'X %s %s\n' % (rid, why.replace('\n', ' ').encode()[:300])
                        else:
                            rc = 128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)
                            out = b'X %s %d %.6f %.6f\n' % (rid, rc, float(status[1]) + t.children_user - t0.children_user, float(status[2]) + t.children_system - t0.children_system)
                        if nfetch > 0 and not killed and not why.startswith('setup '):
                            try:
                                helper = os.fork()
                            except OSError:
                                helper = -1
                            if helper == 0:
                                _rk_fetch(rid, uid, sock)
                        else:
                            helper = -1
                        if helper == -1:
                            # Nothing to fetch: the report goes with the end of the run, in one write.
                            last = out
                        else:
                            _rk_write(1, out)
                    if helper == -1:
                        done = True
                    continue
                if fd != 0:
                    continue
                data = os.read(0, 65536)
                if not data:
                    os._exit(0)
                buf += data
                while b'\n' in buf:
                    i = buf.find(b'\n')
                    msg = buf[:i].split()
                    buf = buf[i + 1:]
                    if len(msg) == 2 and msg[0] == b'K' and msg[1] == rid:
                        killed = True
                        try:
                            os.kill(-1, 9)
                        except OSError:
                            pass
        # The run is over for the host; the slot cleans up before it takes the next one.
        _rk_write(1, last + b'D %s\n' % rid)
        try:
            _rk_fresh_tmp(tmp_mb)
            why = _rk_unclean(net)
        except OSError as e:
            why = str(e)
        if why is not None:
            _rk_write(1, b'U %s\n' % why.encode()[:300])
            os._exit(0)
        # Parameters that no process read (it was killed before it could: a kill right after the
        # request, on a loaded machine) must not reach the next program's process. No process
        # reads the pipe now (the next one is forked below), and the worker only reads what is
        # there (the read end stays blocking for the programs' processes, which share it).
        while select.select([go_r], [], [], 0)[0]:
            os.read(go_r, 4096)
        _rk_next(cmd_w)
        _rk_write(1, b'I\n')


def _rk_next(cmd_w):
    """Has the forker fork the next program's process, with the pids a fresh namespace gives (the
    slot has no other process now)."""
    fd = os.open('/proc/sys/kernel/ns_last_pid', os.O_WRONLY)
    try:
        os.write(fd, b'1')
    finally:
        os.close(fd)
    _rk_write(cmd_w, b'f')


_RK_WARM_SRC = (b'import sys\nx = input()\nprint(x)\n', b'a, b = map(int, input().split())\nprint(a + b)\n',
    b'def f(n):\n    return [i * i for i in range(n) if i % 2]\n\nclass C:\n    def __init__(self, v):\n        self.v = v\n\ntry:\n    print(f"{f(3)} {C(1).v!r:>3}")\nexcept (ValueError, KeyError) as e:\n    raise SystemExit(1) from e\nwhile True:\n    break\n')


def _rk_warm(sock):
    """Once, in the worker: runs what every program's process runs before the program (compile,
    the socket connect, the ctypes calls, the limits, the payload reads and writes) on harmless
    arguments, so that lazily built interpreter state (the compiler's, ctypes' function objects,
    the type attribute cache, the adaptive bytecode of these functions) is built here once, in
    memory every program inherits, instead of in each program's process (each page a process
    writes after fork costs it a page fault)."""
    for i in range(12):
        for src in _RK_WARM_SRC:
            compile(src, '/tmp/prog.py', 'exec', dont_inherit=True)
        try:
            os.close(_rk_step('connect', _rk_connect, sock, b'- w\n'))
        except _RkSetup:
            pass
        _rk_sys(_RK_LIBC.unshare(0), 'unshare')
        if _RK_KEYCTL is not None:
            _RK_LIBC.syscall(_RK_KEYCTL, 0, -3, 0)
        _RK_LIBC.prctl(3, 0, 0, 0, 0)
        for r in (resource.RLIMIT_CORE, resource.RLIMIT_NOFILE, resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE):
            resource.setrlimit(r, resource.getrlimit(r))
        r, w = os.pipe2(os.O_CLOEXEC)
        _rk_write(w, b'000000000000003\n5 0x = 1')
        os.close(w)
        head = _rk_exact(r, int(_rk_exact(r, 16))).decode('utf-8', 'surrogateescape').split('\n')
        src_len, nfiles = head[0].split()
        _rk_put('prog.py', _rk_exact(r, int(src_len)))
        os.close(r)
        ns = {'__builtins__': builtins}
        exec(compile(_rk_source(), '/tmp/prog.py', 'exec', dont_inherit=True), ns)
        _rk_finish(0, ns=ns)
        os.unlink('/tmp/prog.py')
        b'R 0123456789abcdef 1000 1 2 3 4 5 6 7 0\n'.split()


def _rk_prepare_main():
    """Once, in the worker: what "python3 prog.py" in /tmp sets up before running the program — a
    fresh __main__ module, sys.argv, sys.path[0] — so that each program's process inherits it instead
    of building it (the worker itself imports nothing more)."""
    global _rk_main
    sys.path_importer_cache.pop('/tmp', None)
    sys.path_importer_cache.pop('/tmp/.rk', None)
    sys.argv[:] = ['prog.py']
    sys.orig_argv[1:] = ['prog.py']
    sys.path[0] = '/tmp'
    _rk_main = type(sys)('__main__')
    _rk_main.__dict__.update({'__loader__': sys.modules['_frozen_importlib_external'].SourceFileLoader('__main__', '/tmp/prog.py'), '__annotations__': {}, '__builtins__': builtins, '__file__': '/tmp/prog.py', '__cached__': None})
    sys.modules['__main__'] = _rk_main


def _rk_finish(rc, sigint=False, ns=None):
    """What interpreter shutdown does that a program can see (threads joined, atexit, its objects
    finalised, stdio flushed; exit 120 when stdout cannot be flushed), then _exit: tearing down the
    heap inherited from the worker would copy every page of it. (With ns, the warm-up: that
    namespace is cleared instead of __main__'s, and it returns.)"""
    try:
        t = sys.modules.get('threading')
        if t is not None:
            t._shutdown()
    except BaseException:
        pass
    atexit._run_exitfuncs()
    try:
        (_rk_main.__dict__ if ns is None else ns).clear()
        gc.collect()
    except BaseException:
        pass
    for name in ('stdout', 'stderr'):
        f = getattr(sys, name, None)
        try:
            if f is None or getattr(f, 'closed', False):
                continue
            f.flush()
        except BaseException as e:
            rc = 120
            if name == 'stdout':
                try:
                    sys.stderr.write('Exception ignored in: %r\n%s: %s\n' % (f, type(e).__name__, e))
                    sys.stderr.flush()
                except BaseException:
                    pass
    # The interpreter's own streams, when the program replaced sys.stdout or sys.stderr (an atexit
    # handler that writes to sys.__stdout__): flushed as their finalisation would flush them.
    for f in (sys.__stdout__, sys.__stderr__):
        try:
            if f is not None and not f.closed:
                f.flush()
        except BaseException:
            pass
    if ns is not None:
        return
    if _rk_probe or _rk_cases:
        # The probe's end, or a case supervisor's first case: the pages it wrote go to its parent
        # (native.ts, rk_report; a no-op in any other process).
        _RK_NATIVE.rk_report()
    if sigint:
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGINT)
    os._exit(rc)


def _rk_exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code) if -(1 << 63) <= code < (1 << 63) else 255
    try:
        if sys.stderr is not None:
            sys.stderr.write(str(code) + '\n')
    except BaseException:
        pass
    return 1


# Standard-library modules never imported ahead: they print, open windows or a browser when imported.
# The opcodes _rk_preimport reads (from the interpreter's own table, once).
_rk_had = set(sys.modules)
try:
    import opcode as _rk_opcode
    _RK_IMPORT_NAME, _RK_EXTENDED_ARG = _rk_opcode.opmap['IMPORT_NAME'], _rk_opcode.opmap['EXTENDED_ARG']
except (ImportError, KeyError):
    _RK_IMPORT_NAME = _RK_EXTENDED_ARG = None
for _rk_m in set(sys.modules) - _rk_had:
    del sys.modules[_rk_m]
_rk_had = _rk_m = _rk_opcode = None
_RK_NO_PREIMPORT = frozenset(('this', 'antigravity', '__hello__', '__phello__', 'webbrowser', 'turtle', 'turtledemo', 'tkinter', 'idlelib', 'readline', 'pydoc', '__main__'))


def _rk_preimport(code):
    """In a case supervisor (case mode), once: the standard-library modules the program imports (the
    IMPORT_NAME instructions of its code, nested functions and classes included), imported ahead (as
    the program's own first case would import them, so that each case's process finds them in
    sys.modules instead of loading them again), unless an entry of the program's directory (/tmp)
    could shadow them. Only names from the interpreter's own list are imported, from the sealed
    root (no program code runs here). What an import prints goes nowhere; a module that fails to
    import is left to the cases."""
    names = getattr(sys, 'stdlib_module_names', None)
    if not names or _RK_IMPORT_NAME is None:
        return
    mods = []
    todo = [code]
    while todo:
        c = todo.pop()
        b = c.co_code
        ext = 0
        for i in range(0, len(b), 2):
            op = b[i]
            if op == _RK_EXTENDED_ARG:
                ext = (ext | b[i + 1]) << 8
                continue
            if op == _RK_IMPORT_NAME:
                mods.append(c.co_names[ext | b[i + 1]])
            ext = 0
        todo.extend(k for k in c.co_consts if type(k) is type(c))
    here = os.listdir('/tmp')
    null = os.open('/dev/null', os.O_WRONLY | os.O_CLOEXEC)
    saved = (os.dup(1), os.dup(2))
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        for m in mods:
            top = m.partition('.')[0]
            if top not in names or top in _RK_NO_PREIMPORT or m in sys.modules or any(e == top or e.startswith(top + '.') for e in here):
                continue
            try:
                __import__(m)
            except BaseException:
                pass
    finally:
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except BaseException:
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + (null,):
            os.close(fd)


def _rk_source():
    fd = os.open('/tmp/prog.py', os.O_RDONLY | os.O_CLOEXEC)
    try:
        parts = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b''.join(parts)
            parts.append(chunk)
    finally:
        os.close(fd)


if _rk_start() and _rk_cases and _RK_NATIVE is None:
    # Case mode needs the compiled supervisor (native.ts, rk_cases): the host runs each case alone.
    os.write(1, b'U no compiled case supervisor\n')
    os._exit(0)
# Only a program's process gets here (its own uid, limits and IPC namespace; see _rk_program): it
# runs as "python3 prog.py" in /tmp — a fresh __main__, the interpreter's own modules only.
gc.freeze()
try:
    _rk_code = compile(_rk_src, '/tmp/prog.py', 'exec', dont_inherit=True)
except (SyntaxError, ValueError) as _rk_e:
    if _rk_cases:
        os.write(1, b'C\n')
    sys.excepthook(type(_rk_e), _rk_e.with_traceback(None), None)
    _rk_e = None
    _rk_finish(1)
if _rk_cases:
    _rk_preimport(_rk_code)
    # What the imports made is never collected in a case (a collection there would write to it all).
    gc.freeze()
_rk_src = None
if _rk_cases and _RK_NATIVE.rk_cases() != 0:
    # The case supervisor (native.ts, rk_cases): the cases are over. (Each case's process returned
    # 0 above and runs the program below.)
    os._exit(0)
try:
    exec(_rk_code, _rk_main.__dict__)
except SystemExit as _rk_e:
    _rk_code = _rk_exit_code(_rk_e)
    _rk_e = None
    _rk_finish(_rk_code)
except BaseException as _rk_e:
    _rk_e.with_traceback(_rk_e.__traceback__.tb_next)
    try:
        sys.excepthook(type(_rk_e), _rk_e, _rk_e.__traceback__)
    except BaseException:
        pass
    _rk_code = isinstance(_rk_e, KeyboardInterrupt)
    _rk_e = None
    _rk_finish(1, _rk_code)
_rk_finish(0)
`;
