/**
 * The trusted Python loop every `python` grader worker runs inside the sandbox (a TS string so that it
 * works the same from `src` and `dist`).
 *
 * Protocol (one JSON document a line, over the session's stdin/stdout):
 * - parent → worker, first line: `{"source", "filename", "timeout", "load_timeout", "isolation"}` (seconds);
 * - worker → parent: `{"ready":1}` once `grade` is defined, or `{"fatal": message}` (then it exits);
 * - parent → worker, then: one line per batch, `[[output_text, item], ...]`;
 * - worker → parent (ASCII only: `json.dumps` escapes the rest): the batch's results in order, over one or more lines `[r, r, ...]`, each `r` a
 *   finite number or `{"e": message}`. A slow batch is answered in pieces (at most ~20 ms apart, and
 *   at once when a call hits its time limit) so that the parent sees progress call by call.
 *
 * The worker moves its protocol pipes to private descriptors and points fds 0/1/2 (and
 * `sys.stdout`/`sys.stderr`) at /dev/null, so a `print` in the user's code cannot break the protocol.
 * Per call: `signal.setitimer` raises an exception inside `grade` at the time limit (the parent kills
 * the worker when that is not enough); the result must be a real number (bool counts as 0/1, as
 * Python's `float(True)`), finite; anything else is an error naming what was returned. An exception's
 * message is its last traceback line plus the line of the user's source it came from. With
 * `isolation: "call"` each call runs in a child forked from the loaded worker (after closing the
 * protocol pipes): module state does not carry over, and a call that hangs or exits is ended by the
 * worker itself.
 * @internal
 */
export const PY_WORKER = String.raw`
import json, math, numbers, os, select, signal, sys, time

def _main():
    rd = os.fdopen(os.dup(0), 'rb')
    wr = os.fdopen(os.dup(1), 'wb')
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdin = open(os.devnull, 'r')
    sys.stdout = open(os.devnull, 'w')
    sys.stderr = sys.stdout
    loads, dumps = json.loads, json.dumps

    def send(obj):
        wr.write(dumps(obj, separators=(',', ':')).encode('utf-8') + b'\n')
        wr.flush()

    init = loads(rd.readline())
    fname = init['filename']
    limit = float(init['timeout'])
    limit_ms = int(round(limit * 1000))

    class GradeTimeout(BaseException):
        pass

    pending = []
    state = {'child': False}

    def flush():
        if pending:
            send(pending)
            pending.clear()

    def on_alarm(signum, frame):
        if not state['child']:
            flush()  # the parent learns which call is the slow one
        raise GradeTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    setitimer, REAL = signal.setitimer, signal.ITIMER_REAL

    def line_of(e):
        if isinstance(e, SyntaxError) and e.filename == fname and e.lineno:
            return e.lineno
        line = None
        tb = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == fname:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def describe(e):
        name = type(e).__name__
        try:
            text = str(e.msg if isinstance(e, SyntaxError) and e.msg else e)
        except BaseException:
            text = ''
        msg = name + ': ' + text if text else name
        msg = msg.splitlines()[0] if msg else name
        line = line_of(e)
        if line is not None:
            msg += ' (' + fname + ', line ' + str(line) + ')'
        return msg[:500]

    g = {'__name__': '__grader__', '__file__': fname, '__builtins__': __builtins__}
    try:
        code = compile(init['source'], fname, 'exec')
        setitimer(REAL, float(init['load_timeout']))
        try:
            exec(code, g)
        finally:
            setitimer(REAL, 0)
        grade = g.get('grade')
        if not callable(grade):
            send({'fatal': 'the source defines no function grade(sample, item)'})
            return
    except GradeTimeout:
        send({'fatal': 'loading the source took longer than ' + str(init['load_timeout']) + ' s'})
        return
    except BaseException as e:
        send({'fatal': describe(e)})
        return
    send({'ready': 1})

    Real = numbers.Real
    isfinite = math.isfinite
    now = time.monotonic

    def output_json(text):
        try:
            return loads(text)
        except Exception:
            return None

    def not_a_number(r):
        if r is None or isinstance(r, (str, bytes, list, tuple, dict)):
            shown = repr(r)
            if len(shown) > 60:
                shown = shown[:60] + '...'
            return 'grade returned ' + type(r).__name__ + ' ' + shown + ', not a number'
        return 'grade returned a ' + type(r).__name__ + ', not a number'

    def one(sample, item):
        try:
            setitimer(REAL, limit)
            try:
                r = grade(sample, item)
            finally:
                setitimer(REAL, 0)
            if r is True or r is False:
                return 1.0 if r else 0.0
            if isinstance(r, Real):
                res = float(r)
                if not isfinite(res):
                    return {'e': 'grade returned ' + repr(res) + ', not a finite number'}
                return res
            return {'e': not_a_number(r)}
        except GradeTimeout:
            return {'e': 'grade timed out after ' + str(limit_ms) + ' ms'}
        except BaseException as e:
            return {'e': describe(e)}

    isolated = init.get('isolation') == 'call'

    def one_forked(sample, item):
        # The call runs in a child process: whatever it changes dies with it, and it holds no protocol pipe.
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            state['child'] = True
            try:
                os.close(r)
                os.close(rd.fileno())
                os.close(wr.fileno())
                data = dumps(one(sample, item), separators=(',', ':')).encode('utf-8')
                os.write(w, data)
            finally:
                os._exit(0)
        os.close(w)
        chunks = []
        deadline = now() + limit + 0.5
        timed_out = False
        while True:
            left = deadline - now()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        if timed_out:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _, status = os.waitpid(pid, 0)
        if timed_out:
            return {'e': 'grade timed out after ' + str(limit_ms) + ' ms'}
        data = b''.join(chunks)
        try:
            res = loads(data)
            if (isinstance(res, float) and isfinite(res)) or (isinstance(res, dict) and isinstance(res.get('e'), str)):
                return res
        except Exception:
            pass
        if data:
            return {'e': 'the call wrote something else than its result on its result pipe'}
        if os.WIFSIGNALED(status):
            return {'e': 'grade killed its process (signal ' + str(os.WTERMSIG(status)) + ')'}
        return {'e': 'grade ended its process (exit code ' + str(os.WEXITSTATUS(status) if os.WIFEXITED(status) else status) + ')'}

    call = one_forked if isolated else one

    while True:
        line = rd.readline()
        if not line:
            return
        calls = loads(line)
        last = now()
        for text, item in calls:
            pending.append(call({'output_text': text, 'output_json': output_json(text)}, item))
            t = now()
            if t - last > 0.02:
                flush()
                last = t
        flush()

_main()
`;
