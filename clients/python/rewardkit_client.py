"""rewardkit reward-server client for Python trainers (standard library only).

One file, no dependencies: copy it next to a training script, or point verl's
``custom_reward_function.path`` at it.

- ``RewardkitClient``: the server's routes (``/v1/score``, ``/get_reward``, ``/run_code``,
  ``/v1/specs``, ``/healthz``) with retries on 429/503 and connection errors.
- ``compute_score`` / ``compute_score_batch``: verl reward functions (``NaiveRewardManager`` and
  ``BatchRewardManager`` calling conventions).
- ``rewardkit_reward``: a TRL reward function factory (``GRPOTrainer(reward_funcs=[...])``).

Settings come from arguments, else the environment: ``REWARDKIT_URL`` (default
``http://127.0.0.1:8000``), ``REWARDKIT_TOKEN``, ``REWARDKIT_SPEC``, ``REWARDKIT_TIMEOUT`` (seconds).

Null rewards. A reward is ``null`` when the spec cannot judge a rollout (no usable reference, a
grader or backend failure). Such a rollout must not move the policy, but these trainers take one
number per rollout and compute the advantages themselves, so the functions below send a *neutral*
value: the mean of the judged rewards of the rollout's group (same prompt), which gives it advantage
0 under GRPO, Dr.GRPO and RLOO (the other rollouts keep their sign; their scale changes slightly, as
in a group one larger). A group with no judged rollout gets ``null_reward`` (default 0) throughout:
a constant group, advantage 0. Each substitution is flagged (``rk_meta/null_reward``) and counted.
Per trainer (see docs/null-rewards.md):

- TRL (``rewardkit_reward``): group = the completions of the same prompt in one call; the rate goes to
  ``log_metric`` as ``<name>/null_reward_rate``. ``null="none"`` returns ``None`` instead, which TRL
  sums as 0 (``nansum``) — a wrong answer's reward, not a neutral one.
- verl ``compute_score_batch`` (``BatchRewardManager``): group = ``extra_info["index"]``.
- verl ``compute_score`` (``NaiveRewardManager``, one response per call): the group is not visible, so
  a null reward is sent as ``null_reward``; prefer the batch manager.
- OpenRLHF (``/get_reward``): the server substitutes, grouping the queries by prompt.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Sequence

__all__ = [
    "RewardkitClient",
    "RewardkitError",
    "compute_score",
    "compute_score_batch",
    "rewardkit_reward",
    "RewardkitReward",
    "neutral_rewards",
]

DEFAULT_URL = "http://127.0.0.1:8000"
_RETRY_STATUS = (429, 502, 503, 504)


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
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return _plain(tolist(), depth + 1)
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item(), depth + 1)
    return str(value)


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
        retries: int = 5,
        backoff: float = 0.5,
    ) -> None:
        self.url = (url or os.environ.get("REWARDKIT_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("REWARDKIT_TOKEN") or None)
        self.timeout = float(timeout if timeout is not None else os.environ.get("REWARDKIT_TIMEOUT", 120))
        self.retries = retries
        self.backoff = backoff

    # -- transport -------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, str]] = None) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            # ASCII-escaped (json.dumps' default): the server decodes an all-ASCII body on a fast path;
            # raw UTF-8 makes Node's decoder take its slow path for the whole body.
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("ascii")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
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
                if e.code in _RETRY_STATUS and attempt < self.retries:
                    attempt += 1
                    retry_after = e.headers.get("Retry-After") if e.headers else None
                    delay = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else self.backoff * 2 ** (attempt - 1)
                    time.sleep(min(delay, 30.0) * (1 + random.random() * 0.25))
                    continue
                raise RewardkitError(e.code, err, where) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt < self.retries:
                    attempt += 1
                    time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
                    continue
                raise RewardkitError(0, f"cannot reach {self.url}: {getattr(e, 'reason', e)}") from None

    # -- routes ----------------------------------------------------------------------------------
    def score(self, rollouts: Sequence[Dict[str, Any]], spec: Optional[str] = None, details: bool = False, diagnostics: bool = False) -> Dict[str, Any]:
        """``POST /v1/score``: ``{"results": [{id, reward, components, advantage?, details?, errors?}], "diagnostics"?}``."""
        body: Dict[str, Any] = {"rollouts": _plain(list(rollouts))}
        if spec:
            body["spec"] = spec
        if details:
            body["details"] = True
        if diagnostics:
            body["diagnostics"] = True
        return self._request("POST", "/v1/score", body)

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

    def specs(self) -> Dict[str, Any]:
        """``GET /v1/specs``."""
        return self._request("GET", "/v1/specs")

    def health(self) -> Dict[str, Any]:
        """``GET /healthz``."""
        return self._request("GET", "/healthz")


_clients: Dict[tuple, RewardkitClient] = {}


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


def _client(url: Optional[str], token: Optional[str], timeout: Optional[float]) -> RewardkitClient:
    key = (url, token, timeout)
    c = _clients.get(key)
    if c is None:
        c = _clients[key] = RewardkitClient(url, token, timeout)
    return c


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


def _verl_value(result: Dict[str, Any], details: bool, score: float) -> Any:
    """``score`` (the reward, or the neutral value sent for a null one), or the details dict."""
    if not details:
        return score
    out: Dict[str, Any] = {"score": score}
    for name, value in (result.get("components") or {}).items():
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
    **_: Any,
) -> Any:
    """verl reward function: ``custom_reward_function.path=…/rewardkit_client.py``, ``name=compute_score``.

    Scores one response with the server's spec for ``data_source`` (or ``spec`` /
    ``$REWARDKIT_SPEC``). Returns the reward as a float, or with ``details=True`` a dict
    ``{"score": reward, "rk/<component>": value, "rk_meta/error": 0|1, "rk_meta/null_reward": 0|1}``
    that verl logs as ``reward_extra_info``. Pass settings through ``custom_reward_function.reward_kwargs``.

    Null reward (the spec cannot judge the response): verl's ``NaiveRewardManager`` calls this once
    per response, so the response's group is not visible and the neutral value (the group's mean
    judged reward) cannot be computed: ``null_reward`` (default 0) is sent and
    ``rk_meta/null_reward`` is 1. Under GRPO that is a wrong answer's reward when rewards are 0/1;
    use ``compute_score_batch`` (``reward_model.reward_manager=batch``) to send neutral values.
    """
    spec = spec or os.environ.get("REWARDKIT_SPEC") or None
    rollout = _verl_rollout(0, data_source, solution_str, ground_truth, extra_info)
    res = _client(url, token, timeout).score([rollout], spec=spec)
    result = res["results"][0]
    reward = result.get("reward")
    return _verl_value(result, details, float(null_reward if reward is None else reward))


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
    max_batch: int = 4096,
    **_: Any,
) -> List[Any]:
    """Batched verl reward function for ``reward_model.reward_manager=batch``
    (``custom_reward_function.name=compute_score_batch``): one request per ``max_batch`` responses,
    one value per response (as :func:`compute_score`). Responses sharing ``extra_info["index"]``
    form one group.

    Null reward (the spec cannot judge the response): the mean of the judged rewards of its group is
    sent (see :func:`neutral_rewards`), so its GRPO/RLOO advantage is 0; ``null_reward`` (default 0)
    when no response of the group is judged (and for a response without ``extra_info["index"]``,
    which is a group of its own). ``details=True`` flags it with ``rk_meta/null_reward``.
    """
    spec = spec or os.environ.get("REWARDKIT_SPEC") or None
    n = len(solution_strs)
    infos = list(extra_infos) if extra_infos is not None else [None] * n
    rollouts = [_verl_rollout(i, data_sources[i], solution_strs[i], ground_truths[i], infos[i]) for i in range(n)]
    client = _client(url, token, timeout)
    results: List[Dict[str, Any]] = []
    for start in range(0, n, max_batch):
        results.extend(client.score(rollouts[start : start + max_batch], spec=spec)["results"])
    sent = neutral_rewards([r.get("reward") for r in results], [r["group"] for r in rollouts], null_reward)
    return [_verl_value(r, details, s) for r, s in zip(results, sent)]


# -- TRL -----------------------------------------------------------------------------------------
_REFERENCE_KEYS = ("reference", "ground_truth", "solution", "answer", "label")


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
    ) -> None:
        if null not in ("neutral", "none"):
            raise ValueError(f"rewardkit_reward: null must be 'neutral' or 'none', got {null!r}")
        self.null = null
        self.null_reward = float(null_reward)
        #: Null rewards seen so far, and how many were sent as a neutral value.
        self.null_count = 0
        self.neutral_count = 0
        self.url = url
        self.spec = spec or os.environ.get("REWARDKIT_SPEC") or None
        self.token = token
        self.reference_key = reference_key
        self.timeout = timeout
        self.log_components = log_components
        self.__name__ = name or (f"rewardkit_{self.spec}" if self.spec else "rewardkit")

    def _references(self, n: int, kwargs: Dict[str, Any]) -> Optional[List[Any]]:
        keys = (self.reference_key,) if self.reference_key else _REFERENCE_KEYS
        for k in keys:
            v = kwargs.get(k)
            if isinstance(v, (list, tuple)) and len(v) == n:
                return list(v)
        if self.reference_key:
            raise KeyError(f"rewardkit_reward: dataset column {self.reference_key!r} not passed to the reward function")
        return None

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any) -> List[Optional[float]]:
        n = len(completions)
        refs = self._references(n, kwargs)
        sources = kwargs.get("data_source")
        rollouts = []
        groups: List[Any] = []
        for i in range(n):
            r: Dict[str, Any] = {"id": str(i), "completion": completions[i]}
            if prompts is not None and i < len(prompts):
                r["prompt"] = prompts[i]
            # TRL repeats each prompt once per generation: the completions of one prompt are a group.
            groups.append(json.dumps(_plain(r.get("prompt")), sort_keys=True))
            if refs is not None:
                r["reference"] = refs[i]
            if isinstance(sources, (list, tuple)) and len(sources) == n:
                r["meta"] = {"data_source": str(sources[i])}
            n_tokens = _token_count(completion_ids[i] if completion_ids is not None and i < len(completion_ids) else None)
            if n_tokens is not None:
                r["response_length"] = n_tokens  # TRL's completion_ids: only their count is sent
            rollouts.append(r)
        res = _client(self.url, self.token, self.timeout).score(rollouts, spec=self.spec)
        results = res["results"]
        log_metric = kwargs.get("log_metric")
        if self.log_components and callable(log_metric) and results:
            for name in results[0].get("components", {}):
                values = [r["components"][name] for r in results if r["components"].get(name) is not None]
                if values:
                    log_metric(f"{self.__name__}/{name}", sum(values) / len(values))
        rewards = [r.get("reward") for r in results]
        nulls = sum(1 for x in rewards if x is None)
        self.null_count += nulls
        if callable(log_metric) and results:
            log_metric(f"{self.__name__}/null_reward_rate", nulls / len(results))
        if self.null == "none":
            return [None if x is None else float(x) for x in rewards]
        self.neutral_count += nulls
        return neutral_rewards(rewards, groups, self.null_reward)


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
) -> Callable[..., List[Optional[float]]]:
    """TRL reward function factory: ``GRPOTrainer(reward_funcs=[rewardkit_reward("http://127.0.0.1:8000", spec="gsm8k-r1")])``.

    The function receives TRL's ``prompts``, ``completions`` (strings or chat messages) and dataset
    columns; the reference is the column ``reference_key``, else the first of ``reference``,
    ``ground_truth``, ``solution``, ``answer``, ``label``; a ``data_source`` column routes rollouts
    to specs. TRL's ``completion_ids`` are sent as each rollout's ``response_length`` (their count),
    so ``length`` with ``unit: tokens`` counts the policy's tokens. Returns one float per completion.
    Per-component means and the share of null rewards
    (``<name>/null_reward_rate``) go to TRL's ``log_metric`` when available.

    Null reward (the spec cannot judge a completion): with ``null="neutral"`` (default) the mean of
    the judged rewards of the completions of the same prompt in this call is returned, so the
    completion's GRPO advantage is 0 (``null_reward``, default 0, when none of them is judged);
    ``null="none"`` returns ``None``, which TRL turns into NaN and sums as 0 with ``nansum`` — the
    reward of a wrong answer, which does move the policy. With several reward functions, the neutral
    value is neutral for this function's part of the sum. TRL gathers rewards across processes
    before its group statistics: when a prompt's generations are split across processes, each
    process's mean is over the completions it holds.
    """
    return RewardkitReward(url, spec, token, reference_key, name, timeout, log_components, null, null_reward)
