"""rewardkit reward-server client for Python trainers (standard library only).

One file, no dependencies: copy it next to a training script, or point verl's
``custom_reward_function.path`` at it. It imports without TRL, verl or verifiers installed.

- ``RewardkitClient``: the server's routes (``/v1/score``, ``/get_reward``, ``/run_code``,
  ``/v1/specs``, ``/healthz``). ``score`` splits a batch into requests of at most ``max_batch``
  rollouts and ``max_bytes`` bytes (whole groups per request), sends them concurrently (at most
  ``max_concurrency`` at once) and reassembles the results in order. Every request is retried on
  429/502/503/504 and connection errors (exponential backoff with jitter, ``Retry-After`` honoured)
  until ``deadline`` seconds have passed; other errors raise ``RewardkitError`` with the server's
  message.
- verl: ``compute_score`` (naive, dapo and prime reward managers), ``compute_score_batch``
  (batch reward manager), ``compute_score_async`` (the reward loop). ``acc=True`` returns
  ``{"score", "acc", "rk/<component>"…, "rk_meta/…"}`` for DAPO's group filtering.
- TRL: ``rewardkit_reward`` (one reward function), ``async_rewardkit_reward`` (an ``async def``
  that TRL awaits on its event loop), ``reward_funcs_per_component`` (one function per component,
  one request per batch, for ``reward_weights`` and ``multi_objective_aggregation``).
- verifiers: ``rewardkit_rubric`` builds a ``verifiers.Rubric`` (one group reward function per
  component, weights from the spec).

Settings come from arguments, else the environment: ``REWARDKIT_URL`` (default
``http://127.0.0.1:8000``), ``REWARDKIT_TOKEN``, ``REWARDKIT_SPEC``, ``REWARDKIT_TIMEOUT`` (seconds,
one attempt), ``REWARDKIT_DEADLINE`` (seconds, all attempts of one request).

Null rewards. A reward is ``null`` when the spec cannot judge a rollout (no usable reference, a
grader or backend failure). Such a rollout must not move the policy, but these trainers take one
number per rollout and compute the advantages themselves, so the functions below send a *neutral*
value: the mean of the judged rewards of the rollout's group (same prompt), which gives it advantage
0 under GRPO, Dr.GRPO and RLOO. A group with no judged rollout gets ``null_reward`` (default 0)
throughout: a constant group, advantage 0. Each substitution is flagged (``rk_meta/null_reward``)
and counted, and a rollout whose component failed with an error is flagged (``rk_meta/error``) and
logged (logger ``rewardkit_client``): an error is never a silent 0. See docs/null-rewards.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import functools
import hashlib
import http.client
import importlib.util
import json
import logging
import math
import os
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "RewardkitClient",
    "RewardkitError",
    "compute_score",
    "compute_score_async",
    "compute_score_batch",
    "rewardkit_reward",
    "async_rewardkit_reward",
    "reward_funcs_per_component",
    "rewardkit_rubric",
    "RewardkitReward",
    "ComponentReward",
    "neutral_rewards",
]

logger = logging.getLogger("rewardkit_client")

DEFAULT_URL = "http://127.0.0.1:8000"
#: Rollouts per request (the server's default limit is 8192).
DEFAULT_MAX_BATCH = 4096
#: Bytes per request body (the server's default limit is 32 MiB).
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
#: Requests of one batch in flight at once.
DEFAULT_MAX_CONCURRENCY = 4
#: Seconds for all attempts of one request.
DEFAULT_DEADLINE = 600.0
_RETRY_STATUS = (429, 502, 503, 504)
#: A connection closed while a body this large is being sent is taken for a 413.
_LARGE_BODY = 1024 * 1024
_CONNECTION_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, OSError, http.client.HTTPException)


class RewardkitError(RuntimeError):
    """An error answer from the server (``status``, ``error``, ``path``) or an unreachable server (``status`` 0)."""

    def __init__(self, status: int, error: str, path: str = "") -> None:
        where = f" at {path}" if path else ""
        super().__init__(f"rewardkit server: {status} {error}{where}")
        self.status = status
        self.error = error
        self.path = path


def _plain(value: Any, depth: int = 0) -> Any:
    """Turns numpy/pandas values, tuples and sets into JSON values; NaN and infinities into None."""
    if depth > 50:
        raise ValueError("value nested deeper than 50 levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars, torch tensors
    if callable(tolist):
        return _plain(tolist(), depth + 1)
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item(), depth + 1)
    return str(value)


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


_ROLLOUT_PATH = re.compile(r"^rollouts\[(\d+)\]")


class RewardkitClient:
    """Client of one rewardkit server.

    >>> client = RewardkitClient("http://127.0.0.1:8000", token=None)
    >>> client.score([{"id": "a", "completion": "42", "reference": "42"}])["results"][0]["reward"]
    1.0
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        timeout: Optional[float] = None,
        retries: int = 10,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        deadline: Optional[float] = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        self.url = (url or os.environ.get("REWARDKIT_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("REWARDKIT_TOKEN") or None)
        self.timeout = float(timeout if timeout is not None else os.environ.get("REWARDKIT_TIMEOUT", 120))
        self.deadline = float(deadline if deadline is not None else os.environ.get("REWARDKIT_DEADLINE", DEFAULT_DEADLINE))
        if max_batch < 1 or max_bytes < 1 or max_concurrency < 1:
            raise ValueError("RewardkitClient: max_batch, max_bytes and max_concurrency must be at least 1")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_batch = int(max_batch)
        self.max_bytes = int(max_bytes)
        self.max_concurrency = int(max_concurrency)
        #: Requests sent (attempts included), for monitoring and tests.
        self.requests_sent = 0
        self._sleep = time.sleep  # replaced by tests to record the waits
        self._clock = time.monotonic
        self._lock = threading.Lock()
        self._specs_cache: Optional[Dict[str, Any]] = None

    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state.pop("_sleep", None)
        state.pop("_clock", None)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._sleep = time.sleep
        self._clock = time.monotonic

    # -- transport -------------------------------------------------------------------------------
    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: uniform in [base/2, base], base = backoff·2^attempt capped."""
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return base / 2 + random.random() * base / 2

    def _send(self, method: str, path: str, data: Optional[bytes], query: Optional[Dict[str, str]] = None) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        give_up_at = self._clock() + self.deadline
        attempt = 0
        while True:
            with self._lock:
                self.requests_sent += 1
            left = give_up_at - self._clock()
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=max(0.5, min(self.timeout, left))) as resp:
                    raw = resp.read()
                    ctype = resp.headers.get("Content-Type", "")
                    return json.loads(raw) if "json" in ctype else raw.decode("utf-8")
            except urllib.error.HTTPError as e:
                raw = e.read()
                try:
                    payload = json.loads(raw)
                    err, where = str(payload.get("error", raw[:200])), str(payload.get("path", ""))
                except (ValueError, AttributeError):
                    err, where = raw[:200].decode("utf-8", "replace"), ""
                failure = RewardkitError(e.code, err, where)
                if e.code not in _RETRY_STATUS:
                    raise failure from None
                wait = _retry_after(e.headers.get("Retry-After") if e.headers else None)
                if wait is not None:
                    wait *= 1 + random.random() * 0.1
            except _CONNECTION_ERRORS as e:
                reason = getattr(e, "reason", None) or e
                if data is not None and len(data) > _LARGE_BODY and isinstance(reason, (BrokenPipeError, ConnectionResetError)):
                    # A server closes the connection while a body over its limit is still being sent,
                    # before its 413 can be read: answer as the 413 it is (score() then splits).
                    raise RewardkitError(413, f"connection closed while sending a {len(data)}-byte body (over the server's body limit?): {reason!r}") from None
                failure = RewardkitError(0, f"cannot reach {self.url}: {reason!r}")
                wait = None
            if wait is None:
                wait = self._delay(attempt)
            if attempt >= self.retries or self._clock() + wait > give_up_at:
                failure.error += f" (gave up after {attempt + 1} attempts in {self.deadline - (give_up_at - self._clock()):.1f} s)"
                failure.args = (f"rewardkit server: {failure.status} {failure.error}" + (f" at {failure.path}" if failure.path else ""),)
                raise failure
            attempt += 1
            logger.info("rewardkit: %s %s answered %s; retry %d in %.2f s", method, path, failure.status or "no connection", attempt, wait)
            self._sleep(wait)

    def _request(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, str]] = None) -> Any:
        data = None
        if body is not None:
            # ASCII-escaped (json.dumps' default): the server decodes an all-ASCII body on a fast path.
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("ascii")
        return self._send(method, path, data, query)

    # -- batching --------------------------------------------------------------------------------
    def _plan(self, rollouts: Sequence[Dict[str, Any]], sizes: Sequence[int]) -> List[List[int]]:
        """Request chunks (lists of indices): whole groups (``group``, else the prompt, as the server
        groups them) packed in order of first appearance, each chunk at most ``max_batch`` rollouts
        and ``max_bytes`` bytes. A group larger than a chunk is split (and logged)."""
        groups: "OrderedDict[Any, List[int]]" = OrderedDict()
        for i, r in enumerate(rollouts):
            if "group" in r and r["group"] is not None:
                key: Any = ("g", str(r["group"]))
            else:
                key = ("p", json.dumps(_plain(r.get("prompt")), sort_keys=True))
            groups.setdefault(key, []).append(i)
        chunks: List[List[int]] = []
        current: List[int] = []
        current_bytes = 0
        for members in groups.values():
            size = sum(sizes[i] + 1 for i in members)
            if len(members) > self.max_batch or size > self.max_bytes:
                logger.warning(
                    "rewardkit: a group of %d rollouts (%d bytes) is larger than one request (max_batch %d, max_bytes %d): "
                    "it is split, and group statistics (advantages, group graders) are computed per part",
                    len(members), size, self.max_batch, self.max_bytes,
                )
                for i in members:
                    if current and (len(current) + 1 > self.max_batch or current_bytes + sizes[i] + 1 > self.max_bytes):
                        chunks.append(current)
                        current, current_bytes = [], 0
                    current.append(i)
                    current_bytes += sizes[i] + 1
                continue
            if current and (len(current) + len(members) > self.max_batch or current_bytes + size > self.max_bytes):
                chunks.append(current)
                current, current_bytes = [], 0
            current.extend(members)
            current_bytes += size
        if current:
            chunks.append(current)
        return chunks

    def _score_chunk(self, indices: List[int], parts: List[str], tail: str, keys: List[Any]) -> Tuple[List[Dict[str, Any]], Any]:
        body = ('{"rollouts":[' + ",".join(parts[i] for i in indices) + "]" + tail + "}").encode("ascii")
        try:
            res = self._send("POST", "/v1/score", body)
        except RewardkitError as e:
            if e.status == 413 and len(set(keys[i] for i in indices)) > 1:
                # Over the server's body or rollout limit: halve (whole groups) and retry.
                groups: "OrderedDict[Any, List[int]]" = OrderedDict()
                for i in indices:
                    groups.setdefault(keys[i], []).append(i)
                members = list(groups.values())
                half = len(members) // 2
                logger.info("rewardkit: 413 for %d rollouts; retrying as two requests", len(indices))
                a = self._score_chunk([i for g in members[:half] for i in g], parts, tail, keys)
                b = self._score_chunk([i for g in members[half:] for i in g], parts, tail, keys)
                diag = [d for d in (a[1], b[1]) if d is not None]
                return a[0] + b[0], (diag if diag else None)
            m = _ROLLOUT_PATH.match(e.path or "")
            if m and int(m.group(1)) < len(indices):
                # The server names the rollout by its place in this request: name it by its place in the batch.
                e.path = f"rollouts[{indices[int(m.group(1))]}]" + e.path[m.end():]
                e.args = (f"rewardkit server: {e.status} {e.error} at {e.path}",)
            raise
        results = res.get("results")
        if not isinstance(results, list) or len(results) != len(indices):
            raise RewardkitError(200, f"expected {len(indices)} results, got {len(results) if isinstance(results, list) else type(results).__name__}")
        return results, res.get("diagnostics")

    # -- routes ----------------------------------------------------------------------------------
    def score(self, rollouts: Sequence[Dict[str, Any]], spec: Optional[str] = None, details: bool = False, diagnostics: bool = False) -> Dict[str, Any]:
        """``POST /v1/score``: ``{"results": [{id, reward, components, advantage?, details?, errors?}], "diagnostics"?}``.

        A batch over ``max_batch`` rollouts or ``max_bytes`` bytes is sent as several requests of
        whole groups (at most ``max_concurrency`` in flight); ``results`` come back in the order of
        ``rollouts``. With several requests, ``diagnostics`` is the list of each request's.
        """
        rollouts = list(rollouts)
        if not rollouts:
            return {"results": []}
        plain = [_plain(r) for r in rollouts]
        parts = [json.dumps(r, allow_nan=False, separators=(",", ":")) for r in plain]
        tail = ""
        if spec:
            tail += ',"spec":' + json.dumps(spec)
        if details:
            tail += ',"details":true'
        if diagnostics:
            tail += ',"diagnostics":true'
        keys = [("g", str(r["group"])) if r.get("group") is not None else ("p", json.dumps(r.get("prompt"), sort_keys=True)) for r in plain]
        chunks = self._plan(plain, [len(p) for p in parts])
        if len(chunks) == 1 and chunks[0] == list(range(len(rollouts))):
            results, diag = self._score_chunk(chunks[0], parts, tail, keys)
            out: Dict[str, Any] = {"results": results}
            if diag is not None:
                out["diagnostics"] = diag
            return out
        ordered: List[Optional[Dict[str, Any]]] = [None] * len(rollouts)
        diags: List[Any] = []
        # Chunks hold whole groups, so their rollouts are in group order: results go back to their places.
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(chunks))) as pool:
            futures = [pool.submit(self._score_chunk, c, parts, tail, keys) for c in chunks]
            for chunk, fut in zip(chunks, futures):
                results, diag = fut.result()  # the first failing chunk raises
                for i, r in zip(chunk, results):
                    ordered[i] = r
                if diag is not None:
                    diags.extend(diag if isinstance(diag, list) else [diag])
        out = {"results": ordered}
        if diagnostics:
            out["diagnostics"] = diags[0] if len(chunks) == 1 and diags else diags
        return out

    def get_reward(self, query: Sequence[str], prompts: Optional[Sequence[str]] = None, labels: Optional[Sequence[Any]] = None, spec: Optional[str] = None) -> Dict[str, Any]:
        """``POST /get_reward`` (OpenRLHF protocol): ``{"rewards", "scores", "extra_logs"}``."""
        body: Dict[str, Any] = {"query": list(query)}
        if prompts is not None:
            body["prompts"] = list(prompts)
        if labels is not None:
            body["labels"] = _plain(list(labels))
        return self._request("POST", "/get_reward", body, {"spec": spec} if spec else None)

    def run_code(self, code: str, language: str = "python", stdin: Optional[str] = None, run_timeout: float = 10, memory_limit_mb: int = -1) -> Dict[str, Any]:
        """``POST /run_code`` (Sandbox Fusion protocol): ``{"status", "message", "compile_result", "run_result", ...}``."""
        body = {"code": code, "language": language, "stdin": stdin, "compile_timeout": run_timeout, "run_timeout": run_timeout, "memory_limit_MB": memory_limit_mb}
        return self._request("POST", "/run_code", body)

    def specs(self, cached: bool = False) -> Dict[str, Any]:
        """``GET /v1/specs`` (with ``cached=True``, the first answer is kept and reused)."""
        if cached and self._specs_cache is not None:
            return self._specs_cache
        res = self._request("GET", "/v1/specs")
        self._specs_cache = res
        return res

    def spec_info(self, spec: Optional[str] = None) -> Dict[str, Any]:
        """The served spec ``spec`` (else the server's default spec) as ``GET /v1/specs`` describes it:
        ``{"name", "components": [{"name", "grader", "weight"}], "combine": {"type", ...}, ...}``."""
        info = self.specs(cached=True)
        name = spec or info.get("default_spec")
        for s in info.get("specs", []):
            if s.get("name") == name:
                return s
        served = ", ".join(s.get("name", "?") for s in info.get("specs", []))
        if name is None:
            raise ValueError(f"rewardkit: no spec given and the server has no default spec (served: {served})")
        raise ValueError(f"rewardkit: spec {name!r} is not served by {self.url} (served: {served})")

    def health(self) -> Dict[str, Any]:
        """``GET /healthz``."""
        return self._request("GET", "/healthz")


_clients: Dict[tuple, RewardkitClient] = {}
_clients_lock = threading.Lock()


def _client(url: Optional[str], token: Optional[str], timeout: Optional[float], **opts: Any) -> RewardkitClient:
    key = (url, token, timeout, tuple(sorted(opts.items())))
    with _clients_lock:
        c = _clients.get(key)
        if c is None:
            c = _clients[key] = RewardkitClient(url, token, timeout, **opts)
    return c


def _client_opts(max_batch: Optional[int] = None, max_concurrency: Optional[int] = None, deadline: Optional[float] = None) -> Dict[str, Any]:
    opts: Dict[str, Any] = {}
    if max_batch is not None:
        opts["max_batch"] = int(max_batch)
    if max_concurrency is not None:
        opts["max_concurrency"] = int(max_concurrency)
    if deadline is not None:
        opts["deadline"] = float(deadline)
    return opts


def neutral_rewards(rewards: Sequence[Optional[float]], groups: Sequence[Any], null_reward: float = 0.0) -> List[float]:
    """The values to send a trainer for ``rewards`` (``None`` = the spec cannot judge the rollout).

    A judged reward is sent as is; a ``None`` becomes the mean of the judged rewards of its group
    (``groups[i]``, any hashable key), so its group-relative advantage (GRPO, Dr.GRPO, RLOO) is 0;
    in a group with no judged reward it becomes ``null_reward`` (a constant group: advantage 0).

    >>> neutral_rewards([1.0, 0.0, None, None], ["a", "a", "a", "b"])
    [1.0, 0.0, 0.5, 0.0]
    """
    sums: Dict[Any, float] = {}
    counts: Dict[Any, int] = {}
    for r, g in zip(rewards, groups):
        if r is not None:
            sums[g] = sums.get(g, 0.0) + float(r)
            counts[g] = counts.get(g, 0) + 1
    out: List[float] = []
    for r, g in zip(rewards, groups):
        if r is not None:
            out.append(float(r))
        elif counts.get(g):
            out.append(sums[g] / counts[g])
        else:
            out.append(float(null_reward))
    return out


def _report_errors(results: Sequence[Dict[str, Any]], where: str) -> int:
    """Logs (warning) the grader errors of a batch, by component and message; returns how many rollouts had one."""
    n = 0
    seen: Dict[Tuple[str, str], int] = {}
    for r in results:
        errs = r.get("errors")
        if errs:
            n += 1
            for e in errs:
                k = (str(e.get("component", "?")), str(e.get("message", ""))[:200])
                seen[k] = seen.get(k, 0) + 1
    if n:
        top = sorted(seen.items(), key=lambda kv: -kv[1])[:5]
        logger.warning(
            "rewardkit (%s): %d of %d rollouts had grader errors; their components are null (flagged, never a silent 0): %s",
            where, n, len(results), "; ".join(f"{c}: {m} ×{k}" for (c, m), k in top),
        )
    return n


def _token_count(ids: Any = None, info: Any = None) -> Optional[int]:
    """The response's length in the policy's tokens, from what the trainer passed: the length of TRL's
    ``completion_ids`` entry (list, tuple, array or tensor), else ``response_length`` or
    ``valid_response_length`` in verl's ``extra_info`` (stock verl does not put it there; a custom
    reward manager can). ``None`` when neither is there. Sent as the rollout's ``response_length``:
    ``length`` with ``unit: tokens`` then counts the policy's tokens, not an estimate.
    """
    if ids is not None:
        try:
            return len(ids)
        except TypeError:
            pass
    if isinstance(info, dict):
        for key in ("response_length", "valid_response_length"):
            v = _plain(info.get(key))
            if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
                return v
    return None


# -- verl ----------------------------------------------------------------------------------------
def _verl_rollout(i: int, data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any) -> Dict[str, Any]:
    r: Dict[str, Any] = {"id": str(i), "completion": solution_str if isinstance(solution_str, str) else str(solution_str)}
    if ground_truth is not None:
        r["reference"] = _plain(ground_truth)
    meta: Dict[str, Any] = {}
    if data_source is not None:
        meta["data_source"] = str(_plain(data_source))
    if isinstance(extra_info, dict):
        info = _plain(extra_info)
        meta["extra_info"] = info
        index = info.get("index")
        if index is not None:
            # verl's extra_info["index"] is the prompt's index: rollouts of one prompt form one group.
            r["group"] = f"{meta.get('data_source', '')}:{index}"
        for key in ("question", "prompt"):
            if isinstance(info.get(key), str):
                r["prompt"] = info[key]
                break
    if "group" not in r:
        r["group"] = f"rollout:{i}"
    r["meta"] = meta
    n_tokens = _token_count(None, extra_info)
    if n_tokens is not None:
        r["response_length"] = n_tokens
    return r


def _component_names(client: RewardkitClient, result: Dict[str, Any]) -> List[str]:
    """Every component name of every served spec (sorted), so that each response's dict has the same
    keys (verl appends each key's values to one list per key); the result's own names if the server's
    specs cannot be read."""
    try:
        names = sorted({c["name"] for s in client.specs(cached=True).get("specs", []) for c in s.get("components", [])})
    except (RewardkitError, KeyError, TypeError):
        names = []
    for n in (result.get("components") or {}):
        if n not in names:
            names.append(n)
    return names


def _acc_value(result: Dict[str, Any], acc_component: Optional[str], acc_threshold: float, acc_null: float) -> float:
    comps = result.get("components") or {}
    value = comps.get(acc_component) if acc_component and acc_component in comps else result.get("reward")
    if value is None:
        return float(acc_null)
    return 1.0 if float(value) >= acc_threshold else 0.0


def _verl_value(client: RewardkitClient, result: Dict[str, Any], score: float, details: bool, acc: bool, acc_component: Optional[str], acc_threshold: float, acc_null: float) -> Any:
    """``score`` (the reward, or the neutral value sent for a null one), or the dict for ``reward_extra_info``."""
    if not details and not acc:
        return score
    out: Dict[str, Any] = {"score": score}
    if acc:
        out["acc"] = _acc_value(result, acc_component, acc_threshold, acc_null)
    comps = result.get("components") or {}
    for name in _component_names(client, result):
        value = comps.get(name)
        out[f"rk/{name}"] = 0.0 if value is None else float(value)
    out["rk_meta/error"] = 1.0 if result.get("errors") else 0.0
    out["rk_meta/null_reward"] = 1.0 if result.get("reward") is None else 0.0
    return out


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    url: Optional[str] = None,
    spec: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    details: bool = False,
    null_reward: float = 0.0,
    acc: bool = False,
    acc_component: Optional[str] = "correct",
    acc_threshold: float = 1.0,
    acc_null: float = float("nan"),
    deadline: Optional[float] = None,
    **_: Any,
) -> Any:
    """verl reward function: ``custom_reward_function.path=…/rewardkit_client.py``, ``name=compute_score``.

    Scores one response with the server's spec for ``data_source`` (or ``spec`` /
    ``$REWARDKIT_SPEC``). Returns the reward as a float, or with ``details=True`` a dict
    ``{"score": reward, "rk/<component>": value, "rk_meta/error": 0|1, "rk_meta/null_reward": 0|1}``
    that verl logs as ``reward_extra_info`` (the ``rk/`` keys: every component of every served spec,
    so every response has the same keys). Pass settings through ``custom_reward_function.reward_kwargs``.

    ``acc=True`` (DAPO, ``algorithm.filter_groups.metric=acc``) adds ``"acc"`` to that dict: 1.0 when
    the component ``acc_component`` (default ``correct``) is at least ``acc_threshold`` (default 1),
    or, for a spec without that component, when the reward is; else 0.0. A response that cannot be
    judged (that value is null) gets ``acc_null``, NaN by default: NaN makes its group's std NaN, and
    DAPO keeps only groups whose std is > 0, so a group holding an unjudged response is dropped
    instead of trained on. ``acc_null=0`` counts it as wrong instead.

    Null reward (the spec cannot judge the response): verl's naive, dapo and prime managers call this
    once per response, so the response's group is not visible and the neutral value (the group's
    mean judged reward) cannot be computed: ``null_reward`` (default 0) is sent and
    ``rk_meta/null_reward`` is 1. Use ``compute_score_batch`` (``reward_manager=batch``) for neutral
    values. Grader errors are logged (logger ``rewardkit_client``) and flagged in ``rk_meta/error``.
    An unreachable server raises ``RewardkitError`` after the retries (the naive manager stops the
    run; the prime manager prints the error and scores 0 — see the README).
    """
    spec = spec or os.environ.get("REWARDKIT_SPEC") or None
    client = _client(url, token, timeout, **_client_opts(deadline=deadline))
    rollout = _verl_rollout(0, data_source, solution_str, ground_truth, extra_info)
    result = client.score([rollout], spec=spec)["results"][0]
    _report_errors([result], "verl compute_score")
    reward = result.get("reward")
    return _verl_value(client, result, float(null_reward if reward is None else reward), details, acc, acc_component, acc_threshold, acc_null)


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """:func:`compute_score` as a coroutine, for verl's reward loop (``reward_model.use_reward_loop=True``,
    ``custom_reward_function.name=compute_score_async``), which awaits async reward functions: the
    request runs in the loop's default executor, so concurrent responses are scored concurrently."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(compute_score, data_source, solution_str, ground_truth, extra_info, **kwargs))


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Optional[Sequence[Optional[Dict[str, Any]]]] = None,
    url: Optional[str] = None,
    spec: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    details: bool = False,
    null_reward: float = 0.0,
    max_batch: int = DEFAULT_MAX_BATCH,
    acc: bool = False,
    acc_component: Optional[str] = "correct",
    acc_threshold: float = 1.0,
    acc_null: float = float("nan"),
    max_concurrency: Optional[int] = None,
    deadline: Optional[float] = None,
    **_: Any,
) -> List[Any]:
    """Batched verl reward function for ``reward_model.reward_manager=batch``
    (``custom_reward_function.name=compute_score_batch``): requests of at most ``max_batch``
    responses (whole groups), one value per response (as :func:`compute_score`, ``details`` and
    ``acc`` included). Responses sharing ``extra_info["index"]`` form one group.

    Null reward (the spec cannot judge the response): the mean of the judged rewards of its group is
    sent (see :func:`neutral_rewards`), so its GRPO/RLOO advantage is 0; ``null_reward`` (default 0)
    when no response of the group is judged (and for a response without ``extra_info["index"]``,
    which is a group of its own). ``details=True`` flags it with ``rk_meta/null_reward``.
    """
    spec = spec or os.environ.get("REWARDKIT_SPEC") or None
    n = len(solution_strs)
    infos = list(extra_infos) if extra_infos is not None else [None] * n
    rollouts = [_verl_rollout(i, data_sources[i], solution_strs[i], ground_truths[i], infos[i]) for i in range(n)]
    client = _client(url, token, timeout, **_client_opts(max_batch=max_batch, max_concurrency=max_concurrency, deadline=deadline))
    results = client.score(rollouts, spec=spec)["results"]
    _report_errors(results, "verl compute_score_batch")
    sent = neutral_rewards([r.get("reward") for r in results], [r["group"] for r in rollouts], null_reward)
    return [_verl_value(client, r, s, details, acc, acc_component, acc_threshold, acc_null) for r, s in zip(results, sent)]


# -- TRL -----------------------------------------------------------------------------------------
_REFERENCE_KEYS = ("reference", "ground_truth", "solution", "answer", "label")
_TRL_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments")


class RewardkitReward:
    """A TRL reward function (see :func:`rewardkit_reward`). Picklable; ``__name__`` names it in TRL's logs."""

    def __init__(
        self,
        url: Optional[str] = None,
        spec: Optional[str] = None,
        token: Optional[str] = None,
        reference_key: Optional[str] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
        log_components: bool = True,
        null: str = "neutral",
        null_reward: float = 0.0,
        max_batch: Optional[int] = None,
        max_concurrency: Optional[int] = None,
        deadline: Optional[float] = None,
    ) -> None:
        if null not in ("neutral", "none"):
            raise ValueError(f"rewardkit_reward: null must be 'neutral' or 'none', got {null!r}")
        self.null = null
        self.null_reward = float(null_reward)
        #: Null rewards seen so far, how many were sent as a neutral value, and rollouts with grader errors.
        self.null_count = 0
        self.neutral_count = 0
        self.error_count = 0
        self.url = url
        self.spec = spec or os.environ.get("REWARDKIT_SPEC") or None
        self.token = token
        self.reference_key = reference_key
        self.timeout = timeout
        self.log_components = log_components
        self.client_opts = _client_opts(max_batch, max_concurrency, deadline)
        self.__name__ = name or (f"rewardkit_{self.spec}" if self.spec else "rewardkit")

    @property
    def client(self) -> RewardkitClient:
        return _client(self.url, self.token, self.timeout, **self.client_opts)

    def _references(self, n: int, kwargs: Dict[str, Any]) -> Optional[List[Any]]:
        keys = (self.reference_key,) if self.reference_key else _REFERENCE_KEYS
        for k in keys:
            v = kwargs.get(k)
            if v is not None and not isinstance(v, (str, bytes, dict)):
                v = _plain(v)  # lists, tuples, numpy arrays
                if isinstance(v, list) and len(v) == n:
                    return v
        if self.reference_key:
            raise KeyError(f"rewardkit_reward: dataset column {self.reference_key!r} not passed to the reward function")
        return None

    def _rollouts(self, prompts: Optional[Sequence[Any]], completions: Sequence[Any], completion_ids: Any, kwargs: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[Any]]:
        n = len(completions)
        refs = self._references(n, kwargs)
        sources = kwargs.get("data_source")
        if sources is not None and not isinstance(sources, (str, bytes)):
            sources = _plain(sources)
        rollouts = []
        groups: List[Any] = []
        for i in range(n):
            r: Dict[str, Any] = {"id": str(i), "completion": _plain(completions[i])}
            if prompts is not None and i < len(prompts):
                r["prompt"] = _plain(prompts[i])
            # TRL repeats each prompt once per generation: the completions of one prompt are a group.
            groups.append(json.dumps(r.get("prompt"), sort_keys=True))
            if refs is not None:
                r["reference"] = refs[i]
            if isinstance(sources, list) and len(sources) == n:
                r["meta"] = {"data_source": str(sources[i])}
            n_tokens = _token_count(completion_ids[i] if completion_ids is not None and i < len(completion_ids) else None)
            if n_tokens is not None:
                r["response_length"] = n_tokens  # TRL's completion_ids: only their count is sent
            rollouts.append(r)
        return rollouts, groups

    def _values(self, results: List[Dict[str, Any]], groups: List[Any], kwargs: Dict[str, Any]) -> List[Optional[float]]:
        log_metric = kwargs.get("log_metric")
        log_extra = kwargs.get("log_extra")
        if self.log_components and callable(log_metric) and results:
            names: List[str] = []
            for r in results:
                for name in r.get("components") or {}:
                    if name not in names:
                        names.append(name)
            for name in names:
                values = [r["components"][name] for r in results if (r.get("components") or {}).get(name) is not None]
                if values:
                    log_metric(f"{self.__name__}/{name}", sum(values) / len(values))
        rewards = [r.get("reward") for r in results]
        nulls = sum(1 for x in rewards if x is None)
        errors = _report_errors(results, f"TRL {self.__name__}")
        self.null_count += nulls
        self.error_count += errors
        if callable(log_metric) and results:
            log_metric(f"{self.__name__}/null_reward_rate", nulls / len(results))
            log_metric(f"{self.__name__}/error_rate", errors / len(results))
        if callable(log_extra) and results and (nulls or errors):
            # Per completion, in TRL's completions table: which rewards were not judged, and why.
            log_extra(f"{self.__name__}/null_reward", [1 if x is None else 0 for x in rewards])
            log_extra(f"{self.__name__}/error", ["; ".join(f"{e.get('component')}: {e.get('message')}" for e in r.get("errors") or []) for r in results])
        if self.null == "none":
            return [None if x is None else float(x) for x in rewards]
        self.neutral_count += nulls
        return list(neutral_rewards(rewards, groups, self.null_reward))

    def __call__(self, prompts: Optional[Sequence[Any]] = None, completions: Sequence[Any] = (), completion_ids: Any = None, **kwargs: Any) -> List[Optional[float]]:
        rollouts, groups = self._rollouts(prompts, completions, completion_ids, kwargs)
        results = self.client.score(rollouts, spec=self.spec)["results"]
        return self._values(results, groups, kwargs)


def rewardkit_reward(
    url: Optional[str] = None,
    spec: Optional[str] = None,
    token: Optional[str] = None,
    reference_key: Optional[str] = None,
    name: Optional[str] = None,
    timeout: Optional[float] = None,
    log_components: bool = True,
    null: str = "neutral",
    null_reward: float = 0.0,
    max_batch: Optional[int] = None,
    max_concurrency: Optional[int] = None,
    deadline: Optional[float] = None,
) -> Callable[..., List[Optional[float]]]:
    """TRL reward function factory: ``GRPOTrainer(reward_funcs=[rewardkit_reward("http://127.0.0.1:8000", spec="gsm8k-r1")])``.

    The function receives TRL's ``prompts``, ``completions`` (strings or chat messages),
    ``completion_ids``, ``trainer_state``, ``log_metric``, ``log_extra`` and the dataset columns; the
    reference is the column ``reference_key``, else the first of ``reference``, ``ground_truth``,
    ``solution``, ``answer``, ``label``; a ``data_source`` column routes rollouts to specs. TRL's
    ``completion_ids`` are sent as each rollout's ``response_length`` (their count). Batches of any
    size are split into requests of ``max_batch`` rollouts (default 4096, whole prompt groups).
    Returns one float per completion. Per-component means, ``<name>/null_reward_rate`` and
    ``<name>/error_rate`` go to ``log_metric``; when a batch has null rewards or errors, per-completion
    columns ``<name>/null_reward`` and ``<name>/error`` go to ``log_extra`` (TRL's completions table).

    Null reward (the spec cannot judge a completion): with ``null="neutral"`` (default) the mean of
    the judged rewards of the completions of the same prompt in this call is returned, so the
    completion's GRPO advantage is 0 (``null_reward``, default 0, when none of them is judged).
    ``null="none"`` returns ``None``: TRL ≥ 1.6 leaves a completion for which every reward function
    returned ``None`` out of its group baseline with advantage 0 (exact, no rescaling of the others);
    older TRL, or other reward functions next to this one, sum it as 0 — a wrong answer's reward.
    """
    return RewardkitReward(url, spec, token, reference_key, name, timeout, log_components, null, null_reward, max_batch, max_concurrency, deadline)


def _make_async(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """An ``async def`` (so ``inspect.iscoroutinefunction`` is true, as TRL and verl test it) that runs
    the blocking ``fn`` in the running loop's default executor and is named ``name``."""

    async def reward(prompts: Optional[Sequence[Any]] = None, completions: Sequence[Any] = (), completion_ids: Any = None, **kwargs: Any) -> List[Optional[float]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(fn, prompts, completions, completion_ids, **kwargs))

    reward.__name__ = name
    reward.__qualname__ = name
    reward.rewardkit = fn  # type: ignore[attr-defined]  # the synchronous, picklable function
    return reward


def async_rewardkit_reward(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """:func:`rewardkit_reward` as an ``async def`` for TRL's ``GRPOTrainer``, which awaits async
    reward functions together (``asyncio.gather``) on its own event loop thread. Same arguments and
    values. The request runs in the loop's default executor, so the loop is never blocked. The sync
    function is ``f.rewardkit`` (its counters: ``f.rewardkit.null_count`` …).

    Not picklable (a closure): TRL's experimental ``AsyncGRPOTrainer`` pickles reward functions into
    a spawned process — give it :func:`rewardkit_reward`, which it runs in a thread anyway.
    """
    fn = rewardkit_reward(*args, **kwargs)
    return _make_async(fn, fn.__name__)


class _SharedScores:
    """One scoring request per batch for several reward functions: the last few batches' results,
    keyed by a hash of the rollouts sent; concurrent calls with the same batch wait for one request."""

    def __init__(self, base: RewardkitReward, keep: int = 4) -> None:
        self.base = base
        self.keep = keep
        self.requests = 0
        self._init_state()

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._cache: "OrderedDict[str, Tuple[List[Dict[str, Any]], List[Any]]]" = OrderedDict()
        self._inflight: Dict[str, threading.Event] = {}

    def __getstate__(self) -> Dict[str, Any]:
        return {"base": self.base, "keep": self.keep, "requests": self.requests}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_state()

    def get(self, prompts: Any, completions: Any, completion_ids: Any, kwargs: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[Any], bool]:
        """(results, groups, fresh): fresh is True for the call that sent the request."""
        rollouts, groups = self.base._rollouts(prompts, completions, completion_ids, kwargs)
        key = hashlib.sha256(json.dumps([self.base.spec, rollouts], sort_keys=True, default=str).encode()).hexdigest()
        while True:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit[0], hit[1], False
                event = self._inflight.get(key)
                if event is None:
                    event = self._inflight[key] = threading.Event()
                    break
            event.wait()
            with self._lock:
                if key not in self._cache and key not in self._inflight:
                    # the request failed in the other call: this call tries again itself
                    continue
        try:
            results = self.base.client.score(rollouts, spec=self.base.spec)["results"]
            with self._lock:
                self.requests += 1
                self._cache[key] = (results, groups)
                while len(self._cache) > self.keep:
                    self._cache.popitem(last=False)
            return results, groups, True
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            event.set()


class ComponentReward:
    """One component of a spec as a TRL reward function (see :func:`reward_funcs_per_component`)."""

    def __init__(self, shared: _SharedScores, component: str, name: str, weight: float, null: str, null_reward: float) -> None:
        self.shared = shared
        self.component = component
        self.weight = float(weight)
        self.null = null
        self.null_reward = float(null_reward)
        self.null_count = 0
        self.__name__ = name

    def __call__(self, prompts: Optional[Sequence[Any]] = None, completions: Sequence[Any] = (), completion_ids: Any = None, **kwargs: Any) -> List[Optional[float]]:
        results, groups, fresh = self.shared.get(prompts, completions, completion_ids, kwargs)
        if fresh:
            # the whole batch's flags and logs, once per request
            self.shared.base._values(results, groups, kwargs)
        values = [(r.get("components") or {}).get(self.component) for r in results]
        nulls = sum(1 for v in values if v is None)
        self.null_count += nulls
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and values:
            log_metric(f"{self.__name__}/null_rate", nulls / len(values))
        if self.null == "none":
            return [None if v is None else float(v) for v in values]
        return list(neutral_rewards(values, groups, self.null_reward))


def reward_funcs_per_component(
    url: Optional[str] = None,
    spec: Optional[str] = None,
    token: Optional[str] = None,
    components: Optional[Sequence[str]] = None,
    prefix: str = "",
    reference_key: Optional[str] = None,
    timeout: Optional[float] = None,
    null: str = "neutral",
    null_reward: float = 0.0,
    asynchronous: bool = False,
    max_batch: Optional[int] = None,
    max_concurrency: Optional[int] = None,
    deadline: Optional[float] = None,
) -> List[Callable[..., List[Optional[float]]]]:
    """One TRL reward function per component of ``spec`` (default: the server's default spec), in the
    spec's order (or ``components``), each named ``prefix + component`` (TRL logs
    ``rewards/<name>/mean``) and carrying ``.weight``, the component's weight in the spec. All of them
    share one scoring request per batch: the first function TRL calls sends it, the others read its
    result (the last 4 batches are kept, keyed by the rollouts).

    >>> funcs = reward_funcs_per_component("http://127.0.0.1:8000", spec="gsm8k-r1")
    >>> GRPOConfig(reward_weights=[f.weight for f in funcs], multi_objective_aggregation="normalize_then_sum")

    With ``reward_weights`` from the spec and TRL's default ``sum_then_normalize``, the sum TRL forms
    is the spec's reward when the spec combines by ``weighted_sum``; with ``normalize_then_sum`` (GDPO)
    each component is normalised within its group before the weighted sum. A component that is null
    for a completion (cannot judge it) gets the mean of that component over the judged completions of
    the same prompt (``null="neutral"``: advantage 0 for that component), or ``None`` with
    ``null="none"``: TRL then skips it in ``normalize_then_sum``'s per-component mean and std (exactly
    neutral there) but sums it as 0 under ``sum_then_normalize``. ``asynchronous=True`` returns
    ``async def`` functions (TRL awaits them together; still one request per batch).
    """
    if null not in ("neutral", "none"):
        raise ValueError(f"reward_funcs_per_component: null must be 'neutral' or 'none', got {null!r}")
    base = RewardkitReward(url, spec, token, reference_key, None, timeout, True, "neutral", null_reward, max_batch, max_concurrency, deadline)
    info = base.client.spec_info(base.spec)
    declared = [(c["name"], float(c.get("weight", 1.0))) for c in info.get("components", [])]
    if components is not None:
        known = dict(declared)
        missing = [c for c in components if c not in known]
        if missing:
            raise ValueError(f"reward_funcs_per_component: spec {info.get('name')!r} has no component {missing[0]!r} (components: {', '.join(known)})")
        declared = [(c, known[c]) for c in components]
    combine = (info.get("combine") or {}).get("type")
    if combine not in (None, "weighted_sum"):
        logger.warning(
            "rewardkit: spec %r combines its components with %r: a weighted sum of the per-component functions is not its reward",
            info.get("name"), combine,
        )
    base.spec = info.get("name")
    base.__name__ = f"{prefix}rewardkit_{base.spec}"
    shared = _SharedScores(base)
    funcs: List[Callable[..., Any]] = [ComponentReward(shared, c, prefix + c, w, null, null_reward) for c, w in declared]
    if asynchronous:
        out = []
        for f in funcs:
            a = _make_async(f, f.__name__)
            a.weight = f.weight  # type: ignore[attr-defined]
            out.append(a)
        return out
    return funcs


# -- verifiers -----------------------------------------------------------------------------------
class _RubricFunc:
    """A verifiers group reward function (its parameters ``prompts``, ``completions``, ``answers``,
    ``infos`` make verifiers call it once per group): one component's values, or the spec's reward
    (``component=None``); a null value is sent as the group's mean judged value (verifiers sums
    ``value × weight`` and needs a number)."""

    def __init__(self, shared: _SharedScores, component: Optional[str], name: str, null_reward: float) -> None:
        self.shared = shared
        self.component = component
        self.null_reward = float(null_reward)
        self.__name__ = name

    def _sync(self, prompts: Sequence[Any], completions: Sequence[Any], answers: Optional[Sequence[Any]], infos: Optional[Sequence[Any]]) -> List[float]:
        kwargs: Dict[str, Any] = {}
        if answers is not None:
            # verifiers' answer is "" when the example has none: no reference
            kwargs["reference"] = [None if a == "" else a for a in answers]
        if infos is not None:
            sources = [(i or {}).get("data_source") if isinstance(i, dict) else None for i in infos]
            if all(s is not None for s in sources):
                kwargs["data_source"] = sources
        results, groups, fresh = self.shared.get(list(prompts), list(completions), None, kwargs)
        if fresh:
            self.shared.base._values(results, groups, {})
        if self.component is None:
            values = [r.get("reward") for r in results]
        else:
            values = [(r.get("components") or {}).get(self.component) for r in results]
        return list(neutral_rewards(values, groups, self.null_reward))

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], answers: Optional[Sequence[Any]] = None, infos: Optional[Sequence[Any]] = None, **kwargs: Any) -> List[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._sync, prompts, completions, answers, infos)


def rewardkit_rubric(
    url: Optional[str] = None,
    spec: Optional[str] = None,
    token: Optional[str] = None,
    reward: str = "components",
    parser: Any = None,
    null_reward: float = 0.0,
    timeout: Optional[float] = None,
    deadline: Optional[float] = None,
) -> Any:
    """A ``verifiers.Rubric`` scoring with the server's ``spec`` (default: its default spec).

    ``reward="components"`` (default): one group reward function per component, named after it, with
    the spec's weights (``Rubric(funcs=…, weights=…)``), so verifiers' reward — the weighted sum — is
    the spec's reward; only for specs combined by ``weighted_sum`` (else ``ValueError``).
    ``reward="total"``: the spec's reward as one function (weight 1), named ``rewardkit_<spec>``, plus
    every component as a metric (weight 0): any combiner. All functions share one request per group.
    A null value (the spec cannot judge a rollout) is sent as the mean judged value of its group:
    verifiers' group advantage (reward − group mean) is then 0 for it. ``answer`` is the reference
    (``""``, verifiers' default, means none); ``info["data_source"]`` routes to a spec.
    Needs the ``verifiers`` package (``vf.Rubric``).
    """
    try:
        import verifiers as vf  # noqa: F401
        Rubric = vf.Rubric
    except (ImportError, AttributeError) as e:
        raise ImportError(
            "rewardkit_rubric needs the verifiers package (pip install verifiers): it builds a verifiers.Rubric. "
            "The rest of rewardkit_client works without it."
        ) from e
    if reward not in ("components", "total"):
        raise ValueError(f"rewardkit_rubric: reward must be 'components' or 'total', got {reward!r}")
    base = RewardkitReward(url, spec, token, None, None, timeout, False, "neutral", null_reward, None, None, deadline)
    info = base.client.spec_info(base.spec)
    base.spec = info.get("name")
    base.__name__ = f"rewardkit_{base.spec}"
    shared = _SharedScores(base)
    comps = [(c["name"], float(c.get("weight", 1.0))) for c in info.get("components", [])]
    if reward == "components":
        combine = (info.get("combine") or {}).get("type")
        if combine not in (None, "weighted_sum"):
            raise ValueError(
                f"rewardkit_rubric: spec {base.spec!r} combines its components with {combine!r}, not a weighted sum: "
                "reward='total' scores with the spec's reward and logs the components as metrics"
            )
        funcs = [_RubricFunc(shared, c, c, null_reward) for c, _ in comps]
        weights = [w for _, w in comps]
    else:
        funcs = [_RubricFunc(shared, None, base.__name__, null_reward)] + [_RubricFunc(shared, c, c, null_reward) for c, _ in comps]
        weights = [1.0] + [0.0] * len(comps)
    if parser is not None:
        return Rubric(funcs=funcs, weights=weights, parser=parser)
    return Rubric(funcs=funcs, weights=weights)


# -- loaded by file path (verl custom_reward_function.path) --------------------------------------
def _canonical_module() -> Any:
    """verl loads ``custom_reward_function.path`` with ``importlib.util.spec_from_file_location``
    under a name no other process can import (``custom_module_<hash>``, not even put in
    ``sys.modules``; older verl: ``custom_module``). The prime reward manager sends ``compute_score``
    to a ``ProcessPoolExecutor``, which pickles functions by module and name: the pickling (or the
    child's import) fails and prime scores every response 0.0. So when this file is loaded under such
    a name, it also loads itself as ``rewardkit_client`` (in ``sys.modules``, its folder appended to
    ``sys.path`` so that spawned children import it too) and hands out that module's functions, which
    pickle by reference to ``rewardkit_client``."""
    if __name__ in ("rewardkit_client", "__main__") or __name__.endswith(".rewardkit_client"):
        return None
    path = os.path.abspath(__file__)
    existing = sys.modules.get("rewardkit_client")
    if existing is not None:
        other = getattr(existing, "__file__", None)
        if other and os.path.exists(other) and os.path.samefile(other, path):
            return existing
        logger.warning(
            "rewardkit: %s is loaded as %r while another rewardkit_client (%s) is imported: its functions cannot be "
            "sent to verl's prime ProcessPool; use custom_reward_function.path=pkg://rewardkit_client", path, __name__, other,
        )
        return None
    spec = importlib.util.spec_from_file_location("rewardkit_client", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rewardkit_client"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop("rewardkit_client", None)
        raise
    folder = os.path.dirname(path)
    if os.path.basename(path) == "rewardkit_client.py" and folder not in sys.path:
        sys.path.append(folder)
    return module


_canonical = _canonical_module()
if _canonical is not None:
    for _name in __all__:
        globals()[_name] = getattr(_canonical, _name)
