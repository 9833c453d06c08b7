"""Tests of rewardkit_client.py against a running rewardkit server (standard library only).

The server's test suite (src/server/python.test.ts) starts the server on a loopback port with the
fixture specs of src/server/fixtures/specs and runs:

    REWARDKIT_TEST_URL=http://127.0.0.1:PORT REWARDKIT_TEST_TOKEN=T python3 -m unittest -v test_rewardkit_client

Fixture specs: ``exact`` (correct: exact ×1, close: edit_distance ×0.5, GRPO; the default spec, and
the route of data_source ``openai/gsm8k``) and ``diverse`` (correct: exact ×1, novel: distinct_n ×0.25).
"""

import asyncio
import functools
import http.server
import inspect
import json
import logging
import math
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rewardkit_client as rk  # noqa: E402

URL = os.environ.get("REWARDKIT_TEST_URL", "http://127.0.0.1:8000")
TOKEN = os.environ.get("REWARDKIT_TEST_TOKEN") or None
SANDBOX = os.environ.get("REWARDKIT_TEST_SANDBOX") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import numpy as np
except ImportError:  # the trainers hand numpy values over; without numpy those tests use plain lists
    np = None


def exact_reward(correct, close):
    return 1.0 * correct + 0.5 * close


def raw_post(url, body_bytes, headers):
    """POST exact bytes; returns (status, parsed JSON)."""
    req = urllib.request.Request(url, data=body_bytes, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.client = rk.RewardkitClient(URL, token=TOKEN, retries=0)

    def test_health_without_token(self):
        self.assertEqual(rk.RewardkitClient(URL, token=None, retries=0).health(), {"status": "ok"})

    def test_score(self):
        res = self.client.score(
            [
                {"id": "a", "group": "g", "prompt": "6*7?", "completion": "42", "reference": "42"},
                {"id": "b", "group": "g", "prompt": "6*7?", "completion": "41", "reference": "42"},
            ],
            details=True,
            diagnostics=True,
        )
        a, b = res["results"]
        self.assertEqual(a["components"], {"correct": 1, "close": 1})
        self.assertEqual(a["reward"], 1.5)
        self.assertEqual(b["components"], {"correct": 0, "close": 0.5})
        self.assertAlmostEqual(b["reward"], 0.25)
        self.assertGreater(a["advantage"], 0)
        self.assertLess(b["advantage"], 0)
        self.assertEqual(res["diagnostics"]["exact"]["rollouts"], 2)

    def test_errors_carry_status_and_path(self):
        with self.assertRaises(rk.RewardkitError) as cm:
            self.client.score([{"id": "a", "completion": "x"}], spec="nope")
        self.assertEqual((cm.exception.status, cm.exception.path), (422, "spec"))
        with self.assertRaises(rk.RewardkitError) as cm:
            self.client.score([{"id": "a", "completion": 3}])
        self.assertEqual((cm.exception.status, cm.exception.path), (422, "rollouts[0].completion"))
        if TOKEN:
            with self.assertRaises(rk.RewardkitError) as cm:
                rk.RewardkitClient(URL, token="wrong", retries=0).specs()
            self.assertEqual(cm.exception.status, 401)

    def test_unreachable_server(self):
        with self.assertRaises(rk.RewardkitError) as cm:
            rk.RewardkitClient("http://127.0.0.1:9", token=TOKEN, retries=0).health()
        self.assertEqual(cm.exception.status, 0)

    def test_specs(self):
        specs = self.client.specs()
        self.assertEqual(sorted(s["name"] for s in specs["specs"]), ["diverse", "exact"])


class VerlTest(unittest.TestCase):
    kw = {"url": URL, "token": TOKEN}

    def test_compute_score_signature(self):
        # NaiveRewardManager calls compute_score(data_source=, solution_str=, ground_truth=, extra_info=)
        # plus custom_reward_function.reward_kwargs.
        hit = rk.compute_score(data_source="openai/gsm8k", solution_str="42", ground_truth="42", extra_info={"split": "train", "index": 3}, **self.kw)
        miss = rk.compute_score(data_source="openai/gsm8k", solution_str="41", ground_truth="42", extra_info={"split": "train", "index": 3}, **self.kw)
        self.assertIsInstance(hit, float)
        self.assertEqual(hit, exact_reward(1, 1))
        self.assertAlmostEqual(miss, exact_reward(0, 0.5))

    def test_compute_score_details_for_reward_extra_info(self):
        # The rk/ keys are every component of every served spec (verl appends each key to one list per
        # key, so every response must carry the same keys): "novel" (spec diverse) is 0 here.
        out = rk.compute_score("openai/gsm8k", "42", "42", None, details=True, **self.kw)
        self.assertEqual(out, {"score": 1.5, "rk/close": 1.0, "rk/correct": 1.0, "rk/novel": 0.0, "rk_meta/error": 0.0, "rk_meta/null_reward": 0.0})
        other = rk.compute_score("diverse", "42", "42", None, details=True, **self.kw)
        self.assertEqual(sorted(other), sorted(out))

    def test_null_reward(self):
        # No ground truth: both graders are not applicable, the reward is null → null_reward (one
        # response per call: its group is not visible), flagged in the details.
        self.assertEqual(rk.compute_score("openai/gsm8k", "42", None, None, **self.kw), 0.0)
        self.assertEqual(rk.compute_score("openai/gsm8k", "42", None, None, null_reward=-1.0, **self.kw), -1.0)
        out = rk.compute_score("openai/gsm8k", "42", None, None, details=True, **self.kw)
        self.assertEqual((out["score"], out["rk_meta/null_reward"]), (0.0, 1.0))

    def test_batch_sends_the_group_mean_for_a_null_reward(self):
        # Group 0: two judged (1.5, 0.25) and one unjudged → 0.875, its GRPO advantage is 0.
        # Group 1: nothing judged → null_reward. No index: a group of its own → null_reward.
        sols = ["42", "41", "42", "42", "42"]
        truths = ["42", "42", None, None, None]
        infos = [{"index": 0}, {"index": 0}, {"index": 0}, {"index": 1}, None]
        out = rk.compute_score_batch(["openai/gsm8k"] * 5, sols, truths, infos, **self.kw)
        self.assertEqual(out, [1.5, 0.25, 0.875, 0.0, 0.0])
        group = out[:3]
        mean = sum(group) / 3
        self.assertAlmostEqual(group[2] - mean, 0.0)
        low = rk.compute_score_batch(["openai/gsm8k"] * 5, sols, truths, infos, null_reward=-1.0, max_batch=2, **self.kw)
        self.assertEqual(low, [1.5, 0.25, 0.875, -1.0, -1.0])
        det = rk.compute_score_batch(["openai/gsm8k"] * 5, sols, truths, infos, details=True, **self.kw)
        self.assertEqual([d["rk_meta/null_reward"] for d in det], [0.0, 0.0, 1.0, 1.0, 1.0])
        self.assertEqual([d["score"] for d in det], out)

    def test_neutral_rewards_helper(self):
        self.assertEqual(rk.neutral_rewards([1.0, 0.0, None, None], ["a", "a", "a", "b"]), [1.0, 0.0, 0.5, 0.0])
        self.assertEqual(rk.neutral_rewards([None, None], [0, 0], null_reward=-0.5), [-0.5, -0.5])
        self.assertEqual(rk.neutral_rewards([], []), [])

    def test_routes_by_data_source_or_spec(self):
        # data_source "diverse" names a spec: its components apply.
        out = rk.compute_score("diverse", "42", "42", {"index": 0}, details=True, **self.kw)
        self.assertIn("rk/novel", out)
        out = rk.compute_score("anything", "42", "42", {"index": 0}, details=True, spec="diverse", **self.kw)
        self.assertIn("rk/novel", out)

    def test_numpy_like_values(self):
        class Arr:  # what verl hands over for list-valued ground truths (numpy arrays)
            def tolist(self):
                return ["42", "forty-two"]

        self.assertEqual(rk.compute_score("openai/gsm8k", "42", Arr(), {"index": 1, "score": float("nan")}, **self.kw), 1.5)

    def test_batch_matches_single(self):
        # BatchRewardManager calls compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=, **reward_kwargs).
        sols = ["42", "41", "forty two", "42"]
        infos = [{"index": 0}, {"index": 0}, {"index": 1}, {"index": 1}]
        batch = rk.compute_score_batch(data_sources=["openai/gsm8k"] * 4, solution_strs=sols, ground_truths=["42"] * 4, extra_infos=infos, **self.kw)
        single = [rk.compute_score("openai/gsm8k", s, "42", i, **self.kw) for s, i in zip(sols, infos)]
        self.assertEqual(batch, single)
        small = rk.compute_score_batch(["openai/gsm8k"] * 4, sols, ["42"] * 4, infos, max_batch=3, **self.kw)
        self.assertEqual(small, single)


class TrlTest(unittest.TestCase):
    def test_standard_format(self):
        fn = rk.rewardkit_reward(URL, spec="exact", token=TOKEN)
        self.assertEqual(fn.__name__, "rewardkit_exact")
        metrics = {}
        extra = {}
        out = fn(
            prompts=["What is 6*7?", "What is 6*7?"],
            completions=["42", "41"],
            completion_ids=[[1, 2], [3]],
            ground_truth=["42", "42"],
            trainer_state=None,
            log_extra=lambda col, vals: extra.setdefault(col, vals),
            log_metric=lambda name, value: metrics.setdefault(name, value),
        )
        self.assertEqual(out, [1.5, 0.25])
        self.assertEqual(metrics, {"rewardkit_exact/correct": 0.5, "rewardkit_exact/close": 0.75, "rewardkit_exact/null_reward_rate": 0.0, "rewardkit_exact/error_rate": 0.0})
        self.assertEqual(pickle.loads(pickle.dumps(fn))(prompts=["q"], completions=["42"], solution=["42"]), [1.5])

    def test_conversational_format(self):
        fn = rk.rewardkit_reward(URL, spec="exact", token=TOKEN, reference_key="answer")
        out = fn(
            prompts=[[{"role": "user", "content": "What is 6*7?"}]] * 2,
            completions=[[{"role": "assistant", "content": "42"}], [{"role": "assistant", "content": "41"}]],
            answer=["42", "42"],
        )
        self.assertEqual(out, [1.5, 0.25])

    def test_null_reward_is_sent_neutral(self):
        # The third completion cannot be judged (no reference): it gets the mean of its prompt's judged
        # rewards, so TRL's GRPO advantage for it is 0; the other prompt has nothing judged → 0.
        fn = rk.rewardkit_reward(URL, spec="exact", token=TOKEN)
        metrics = {}
        out = fn(
            prompts=["q1", "q1", "q1", "q2"],
            completions=["42", "41", "42", "42"],
            ground_truth=["42", "42", None, None],
            log_metric=lambda name, value: metrics.setdefault(name, value),
        )
        self.assertEqual(out, [1.5, 0.25, 0.875, 0.0])
        self.assertEqual(metrics["rewardkit_exact/null_reward_rate"], 0.5)
        self.assertEqual((fn.null_count, fn.neutral_count), (2, 2))
        self.assertEqual(fn(prompts=["q"], completions=["42"]), [0.0])
        self.assertEqual(rk.rewardkit_reward(URL, spec="exact", token=TOKEN, null_reward=-1)(prompts=["q"], completions=["42"]), [-1.0])

    def test_none_when_asked(self):
        fn = rk.rewardkit_reward(URL, spec="exact", token=TOKEN, null="none")
        self.assertEqual(fn(prompts=["q"], completions=["42"]), [None])
        with self.assertRaises(ValueError):
            rk.rewardkit_reward(URL, null="zero")

    def test_missing_reference_column(self):
        fn = rk.rewardkit_reward(URL, token=TOKEN, reference_key="gold")
        with self.assertRaises(KeyError):
            fn(prompts=["q"], completions=["42"], answer=["42"])


class OpenRlhfTest(unittest.TestCase):
    """The body exactly as OpenRLHF's SingleTurnAgentExecutor builds it (aiohttp json= → json.dumps)."""

    prompt = "<|im_start|>user\nWhat is 6\u00d77?<|im_end|>\n<|im_start|>assistant\n"

    def post(self, queries, prompts, labels, spec=None):
        payload = {"query": queries, "prompts": prompts, "labels": labels}
        body = json.dumps(payload).encode("utf-8")
        query = f"?token={TOKEN}" if TOKEN else ""
        if spec:
            query += ("&" if query else "?") + f"spec={spec}"
        return raw_post(URL + "/get_reward" + query, body, {"Content-Type": "application/json"})

    def check_like_openrlhf(self, info, n):
        # What OpenRLHF does with the answer: scores (else rewards), and one tensor per extra_logs key.
        self.assertEqual(list(info.keys()), ["rewards", "scores", "extra_logs"])
        score = info.get("scores")
        if score is None:
            score = info.get("rewards")
        self.assertEqual(len(info["rewards"]), n)
        self.assertEqual(len(score), n)
        for s in score:
            self.assertTrue(0.0 <= s <= 1.0)
        for key, values in (info.get("extra_logs") or {}).items():
            self.assertIsInstance(values, list, key)
            self.assertEqual(len(values), n, key)
            for v in values:
                self.assertIsInstance(v, (int, float), key)

    def test_single_query_request(self):
        status, info = self.post([self.prompt + "42<|im_end|>"], [self.prompt], ["42"])
        self.assertEqual(status, 200)
        self.check_like_openrlhf(info, 1)
        self.assertEqual(info["rewards"], [1.5])
        self.assertEqual(info["scores"], [1])
        self.assertEqual(info["extra_logs"]["rk/correct"], [1])
        self.assertEqual(info["extra_logs"]["rk_meta/prefix_mismatch"], [0])

    def test_batched_request(self):
        queries = [self.prompt + "42<|im_end|>", self.prompt + "41<|im_end|>", "lost prompt 42"]
        status, info = self.post(queries, [self.prompt] * 3, ["42"] * 3, spec="exact")
        self.assertEqual(status, 200)
        self.check_like_openrlhf(info, 3)
        self.assertEqual(info["extra_logs"]["rk_meta/prefix_mismatch"], [0, 0, 1])

    def test_null_reward_sent_neutral_and_flagged(self):
        p = self.prompt
        status, info = self.post([p + "42", p + "41", p + "42", "other 42"], [p, p, p, "other "], ["42", "42", None, None], spec="exact")
        self.assertEqual(status, 200)
        self.check_like_openrlhf(info, 4)
        self.assertEqual(info["rewards"], [1.5, 0.25, 0.875, 0])
        self.assertEqual(info["extra_logs"]["rk_meta/null_reward"], [0, 0, 1, 1])
        self.assertEqual(info["extra_logs"]["rk_meta/judged"], [1, 1, 0, 0])

    def test_client_helper(self):
        res = rk.RewardkitClient(URL, token=TOKEN, retries=0).get_reward([self.prompt + "42"], [self.prompt], ["42"])
        self.assertEqual(res["rewards"], [1.5])


class SandboxFusionTest(unittest.TestCase):
    """The request exactly as verl's sandbox_fusion call_sandbox_api builds it."""

    def run_code(self, code, stdin, language="python", run_timeout=10):
        payload = json.dumps(
            {
                "compile_timeout": run_timeout,
                "run_timeout": run_timeout,
                "code": code,
                "stdin": stdin,
                "memory_limit_MB": 1024,
                "language": language,
                "files": {},
                "fetch_files": [],
            }
        ).encode("utf-8")
        query = f"?token={TOKEN}" if TOKEN else ""
        return raw_post(URL + "/run_code" + query, payload, {"Content-Type": "application/json", "Accept": "application/json"})

    def test_response_shape(self):
        status, resp = self.run_code("print(int(input()) * 2)", "21\n")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(resp), ["compile_result", "executor_pod_name", "files", "message", "run_result", "status"])
        if not SANDBOX:
            self.assertIn(resp["status"], ("Success", "SandboxError"))
            return
        # verl's reading: api status Success + run_result Finished + stdout equal → correct.
        self.assertEqual(resp["status"], "Success", resp)
        self.assertIsNone(resp["compile_result"])
        self.assertEqual(resp["run_result"]["status"], "Finished")
        self.assertEqual(resp["run_result"]["return_code"], 0)
        self.assertEqual(resp["run_result"]["stdout"].rstrip("\n"), "42")

    @unittest.skipUnless(SANDBOX, "sandbox unavailable on this machine")
    def test_failures_as_verl_classifies_them(self):
        status, resp = self.run_code("raise SystemExit(3)", "")
        self.assertEqual((status, resp["status"], resp["run_result"]["status"], resp["run_result"]["return_code"]), (200, "Failed", "Finished", 3))
        status, resp = self.run_code("while True: pass", "", run_timeout=1)
        self.assertEqual((resp["status"], resp["run_result"]["status"]), ("Failed", "TimeLimitExceeded"))
        status, resp = self.run_code("console.log(6 * 7)", None, language="nodejs")
        self.assertEqual((resp["status"], resp["run_result"]["stdout"]), ("Success", "42\n"))

    def test_unsupported_language(self):
        # A Sandbox Fusion language rewardkit does not run: Sandbox Fusion's own SandboxError.
        status, resp = self.run_code("<?php echo 1;", "", language="php")
        self.assertEqual((status, resp["status"]), (200, "SandboxError"))
        self.assertIn("not supported", resp["message"])
        status, resp = self.run_code("x", "", language="cobol")
        self.assertEqual((status, resp["path"]), (422, "language"))


class TokenDataTest(unittest.TestCase):
    """The policy's token counts reach the server as ``response_length`` (and the server checks them)."""

    def capture(self, call):
        sent = []

        class Stub:
            def score(self, rollouts, spec=None, **_):
                sent.extend(rollouts)
                return {"results": [{"id": r["id"], "reward": 0.0, "components": {}} for r in rollouts]}

        original = rk._client
        rk._client = lambda *a, **k: Stub()
        try:
            call()
        finally:
            rk._client = original
        return [r.get("response_length") for r in sent]

    def test_trl_sends_the_count_of_completion_ids(self):
        f = rk.rewardkit_reward(URL, token=TOKEN)
        self.assertEqual(self.capture(lambda: f(prompts=["p", "p"], completions=["a", "b"], completion_ids=[[5, 6, 7], (8,)])), [3, 1])
        self.assertEqual(self.capture(lambda: f(prompts=["p"], completions=["a"])), [None])

    def test_verl_sends_a_response_length_found_in_extra_info(self):
        self.assertEqual(self.capture(lambda: rk.compute_score("d", "x", "y", {"index": 0, "valid_response_length": 7}, url=URL, token=TOKEN)), [7])
        self.assertEqual(self.capture(lambda: rk.compute_score_batch(["d", "d"], ["x", "y"], ["1", "2"], [{"response_length": 4}, {"index": 1}], url=URL, token=TOKEN)), [4, None])
        self.assertEqual(self.capture(lambda: rk.compute_score("d", "x", "y", {"response_length": -1}, url=URL, token=TOKEN)), [None])

    def test_server_accepts_token_data_and_names_a_wrong_field(self):
        client = rk.RewardkitClient(URL, token=TOKEN, retries=0)
        res = client.score([{"id": "a", "completion": "42", "reference": "42", "completion_ids": [1, 2], "response_length": 2}])
        self.assertEqual(res["results"][0]["components"]["correct"], 1)
        with self.assertRaises(rk.RewardkitError) as e:
            client.score([{"id": "a", "completion": "42", "completion_ids": [1, "2"]}])
        self.assertEqual((e.exception.status, e.exception.path), (422, "rollouts[0].completion_ids[1]"))


# -- fault injection: a tiny scripted HTTP server ------------------------------------------------
class StubServer:
    """A loopback HTTP server answering from a script: each request pops the next entry of
    ``script`` — ``(status, headers, body)`` or ``"drop"`` (close the connection without an answer) —
    and, when the script is empty, answers ``/v1/score`` with reward = float(id) for each rollout
    (``/v1/specs`` with ``specs``). Records every request and the most requests in flight at once."""

    def __init__(self, script=None, delay=0.0, specs=None, results=None):
        self.script = list(script or [])
        self.delay = delay
        self.specs = specs
        self.results = results  # a function(rollouts) -> results, else reward = float(id)
        self.requests = []
        self.inflight = 0
        self.max_inflight = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self, status, headers, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with stub.lock:
                    stub.requests.append((self.command, self.path, body))
                    step = stub.script.pop(0) if stub.script else None
                    stub.inflight += 1
                    stub.max_inflight = max(stub.max_inflight, stub.inflight)
                try:
                    if stub.delay:
                        time.sleep(stub.delay)
                    if step == "drop":
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if step is not None:
                        return self.answer(*step)
                    if self.path.startswith("/v1/specs"):
                        return self.answer(200, {}, stub.specs or {"specs": [], "default_spec": None})
                    rollouts = body["rollouts"]
                    results = stub.results(rollouts) if stub.results else [{"id": r["id"], "reward": float(r["id"]), "components": {"c": float(r["id"])}} for r in rollouts]
                    return self.answer(200, {}, {"results": results})
                finally:
                    with stub.lock:
                        stub.inflight -= 1

            do_GET = handle_any
            do_POST = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeTime:
    """Replaces a client's sleep and clock: waits are recorded and advance the clock, nothing sleeps."""

    def __init__(self, client):
        self.now = 1000.0
        self.waits = []
        client._sleep = self.sleep
        client._clock = lambda: self.now

    def sleep(self, s):
        self.waits.append(s)
        self.now += s


def rollouts_for(n, group_size=1):
    return [{"id": str(i), "group": f"g{i // group_size}", "completion": "x"} for i in range(n)]


class RetryTest(unittest.TestCase):
    def stub(self, *a, **k):
        s = StubServer(*a, **k)
        self.addCleanup(s.close)
        return s

    def test_retries_503_and_429_honouring_retry_after(self):
        s = self.stub([(503, {"Retry-After": "2"}, {"error": "queue full"}), (429, {"Retry-After": "1"}, {"error": "busy"})])
        c = rk.RewardkitClient(s.url, token=None)
        t = FakeTime(c)
        res = c.score(rollouts_for(3))
        self.assertEqual([r["reward"] for r in res["results"]], [0.0, 1.0, 2.0])
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(len(t.waits), 2)
        self.assertTrue(2.0 <= t.waits[0] <= 2.2, t.waits)
        self.assertTrue(1.0 <= t.waits[1] <= 1.1, t.waits)

    def test_retry_after_as_http_date_and_backoff_with_jitter_without_it(self):
        when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
        s = self.stub([(503, {"Retry-After": when}, {"error": "x"}), (504, {}, {"error": "gateway"}), (502, {}, {"error": "bad gateway"})])
        c = rk.RewardkitClient(s.url, token=None, backoff=0.5)
        t = FakeTime(c)
        c.score(rollouts_for(1))
        self.assertTrue(25 <= t.waits[0] <= 33, t.waits)
        # no Retry-After: exponential backoff, uniform in [base/2, base], base = 0.5·2^attempt
        self.assertTrue(0.5 <= t.waits[1] <= 1.0, t.waits)
        self.assertTrue(1.0 <= t.waits[2] <= 2.0, t.waits)

    def test_connection_drops_are_retried(self):
        s = self.stub(["drop", "drop"])
        c = rk.RewardkitClient(s.url, token=None)
        FakeTime(c)
        self.assertEqual(c.score(rollouts_for(2))["results"][1]["reward"], 1.0)
        self.assertEqual(len(s.requests), 3)

    def test_bounded_by_the_deadline(self):
        s = self.stub([(503, {"Retry-After": "5"}, {"error": "server is shutting down"})] * 100)
        c = rk.RewardkitClient(s.url, token=None, deadline=12)
        t = FakeTime(c)
        with self.assertRaises(rk.RewardkitError) as cm:
            c.score(rollouts_for(1))
        # attempts at t = 0, 5, 10; the next would start past 12 s
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(cm.exception.status, 503)
        self.assertIn("server is shutting down", str(cm.exception))
        self.assertIn("gave up after 3 attempts", str(cm.exception))
        self.assertLessEqual(sum(t.waits), 12)

    def test_bounded_by_retries(self):
        s = self.stub([(429, {"Retry-After": "0"}, {"error": "busy"})] * 10)
        c = rk.RewardkitClient(s.url, token=None, retries=2)
        FakeTime(c)
        with self.assertRaises(rk.RewardkitError) as cm:
            c.score(rollouts_for(1))
        self.assertEqual((cm.exception.status, len(s.requests)), (429, 3))

    def test_other_errors_raise_at_once_with_the_servers_message(self):
        s = self.stub([(422, {}, {"error": "expected a string, got number", "path": "rollouts[1].completion"})])
        c = rk.RewardkitClient(s.url, token=None)
        with self.assertRaises(rk.RewardkitError) as cm:
            c.score(rollouts_for(4))
        self.assertEqual(len(s.requests), 1)
        self.assertEqual((cm.exception.status, cm.exception.path), (422, "rollouts[1].completion"))
        self.assertIn("expected a string, got number", str(cm.exception))

    def test_chunks_run_concurrently_bounded_and_come_back_in_order(self):
        s = self.stub(delay=0.05)
        c = rk.RewardkitClient(s.url, token=None, max_batch=10, max_concurrency=3)
        res = c.score(rollouts_for(95, group_size=5))
        self.assertEqual([r["reward"] for r in res["results"]], [float(i) for i in range(95)])
        self.assertEqual(len(s.requests), 10)
        self.assertLessEqual(s.max_inflight, 3)
        for _, _, body in s.requests:
            self.assertLessEqual(len(body["rollouts"]), 10)
            groups = {r["group"] for r in body["rollouts"]}
            # whole groups only
            for g in groups:
                self.assertEqual(sum(1 for r in body["rollouts"] if r["group"] == g), 5)

    def test_a_413_is_split_in_halves(self):
        s = self.stub([(413, {}, {"error": "request body larger than the 2048 byte limit", "path": ""})])
        c = rk.RewardkitClient(s.url, token=None)
        res = c.score(rollouts_for(8, group_size=2))
        self.assertEqual([r["reward"] for r in res["results"]], [float(i) for i in range(8)])
        self.assertEqual([len(b["rollouts"]) for _, _, b in s.requests], [8, 4, 4])

    def test_an_error_in_one_chunk_names_the_rollout_by_its_place_in_the_batch(self):
        c = rk.RewardkitClient(URL, token=TOKEN, retries=0, max_batch=3)
        rollouts = [{"id": str(i), "group": f"g{i}", "completion": "42", "reference": "42"} for i in range(10)]
        rollouts[7]["completion"] = 7
        with self.assertRaises(rk.RewardkitError) as cm:
            c.score(rollouts)
        self.assertEqual((cm.exception.status, cm.exception.path), (422, "rollouts[7].completion"))


class BatchTest(unittest.TestCase):
    """Against the real server (its default limit: 8192 rollouts per request)."""

    def test_trl_batch_of_9600_is_split_without_413(self):
        # 600 prompts × 16 generations, in TRL's order (each prompt repeated num_generations times).
        prompts = [f"What is {p} + 0?" for p in range(600) for _ in range(16)]
        answers = [str(p) for p in range(600) for _ in range(16)]
        completions = [a if j % 2 == 0 else "wrong" for j, a in enumerate(answers)]
        ids = [[1] * (j % 7 + 1) for j in range(9600)]
        if np is not None:
            ids = [np.array(x, dtype=np.int64) for x in ids]
        fn = rk.rewardkit_reward(URL, spec="exact", token=TOKEN)
        before = fn.client.requests_sent
        metrics = {}
        out = fn(prompts=prompts, completions=completions, completion_ids=ids, answer=answers, trainer_state=object(), log_metric=lambda k, v: metrics.setdefault(k, v), log_extra=lambda k, v: None)
        self.assertEqual(len(out), 9600)
        self.assertEqual(fn.client.requests_sent - before, 3)  # 256 + 256 + 88 prompts of 16
        self.assertEqual(out[0], 1.5)
        self.assertEqual(out[1], 0.0)  # "wrong" vs a one- or two-digit answer: no exact, edit distance 0
        for j in (2, 4097, 8190, 9598, 9599):
            self.assertEqual(out[j] == 1.5, j % 2 == 0, j)
        self.assertEqual(metrics["rewardkit_exact/correct"], 0.5)
        # The same batch in one request is accepted too: the server grades it in chunks of whole
        # groups (admission by capacity), so splitting is the client's choice, not a necessity.
        one = rk.RewardkitClient(URL, token=TOKEN, retries=0, max_batch=100000)
        res = one.score([{"id": str(i), "group": "one", "completion": "x"} for i in range(9600)])["results"]
        self.assertEqual((len(res), one.requests_sent), (9600, 1))

    def test_splitting_keeps_groups_whole_so_advantages_do_not_change(self):
        # Interleaved groups (not contiguous): the split requests carry whole groups, so the GRPO
        # advantages (group mean and std) are those of the unsplit batch.
        rollouts = [{"id": str(i), "group": f"g{i % 7}", "completion": str(i % 5), "reference": "3"} for i in range(70)]
        whole = rk.RewardkitClient(URL, token=TOKEN, retries=0).score(rollouts)["results"]
        split_client = rk.RewardkitClient(URL, token=TOKEN, retries=0, max_batch=20)
        split = split_client.score(rollouts)["results"]
        self.assertEqual(split_client.requests_sent, 4)  # 7 groups of 10: two groups per request
        self.assertEqual([r["id"] for r in split], [str(i) for i in range(70)])
        for a, b in zip(whole, split):
            self.assertEqual(a["reward"], b["reward"])
            self.assertAlmostEqual(a["advantage"], b["advantage"], places=9)
        by_bytes = rk.RewardkitClient(URL, token=TOKEN, retries=0, max_bytes=1500)
        self.assertEqual([r["reward"] for r in by_bytes.score(rollouts)["results"]], [r["reward"] for r in whole])
        self.assertGreater(by_bytes.requests_sent, 1)

    def test_a_batch_over_the_scoring_chunk_is_one_request(self):
        # 9,600 rollouts, more than the server's scoring chunk (8,192): one request, graded in chunks.
        rollouts = [{"id": str(i), "group": f"g{i // 8}", "completion": "42", "reference": "42"} for i in range(9600)]
        c = rk.RewardkitClient(URL, token=TOKEN, retries=0, max_batch=100000)
        res = c.score(rollouts)["results"]
        self.assertEqual(c.requests_sent, 1)
        self.assertEqual(len(res), 9600)
        self.assertTrue(all(r["reward"] == 1.5 for r in res))


    def test_a_body_over_the_servers_limit_is_split(self):
        # 40 MB > the server's 32 MiB body limit: the server closes the connection while the body is
        # still being sent (no readable 413); the client takes it for a 413 and halves the request.
        big = "x" * 5000
        rollouts = [{"id": str(i), "group": f"g{i // 4}", "completion": big} for i in range(8000)]
        c = rk.RewardkitClient(URL, token=TOKEN, retries=0, max_batch=100000, max_bytes=10**9)
        res = c.score(rollouts)["results"]
        self.assertEqual(len(res), 8000)
        self.assertEqual(c.requests_sent, 3)
        self.assertEqual(res[7999]["id"], "7999")


class AsyncTest(unittest.TestCase):
    def test_trl_awaits_it_on_its_loop_thread(self):
        f = rk.async_rewardkit_reward(URL, spec="exact", token=TOKEN)
        # TRL: inspect.iscoroutinefunction(reward_func) → awaited with asyncio.gather on a daemon loop.
        self.assertTrue(inspect.iscoroutinefunction(f))
        self.assertEqual(f.__name__, "rewardkit_exact")
        loop = asyncio.new_event_loop()
        t = threading.Thread(target=loop.run_forever, daemon=True)
        t.start()
        try:
            kwargs = dict(prompts=[[{"role": "user", "content": "6*7?"}]] * 2, completions=[[{"role": "assistant", "content": "42"}], [{"role": "assistant", "content": "41"}]], completion_ids=[[1, 2], [3]], answer=["42", "42"], trainer_state=None)

            async def both():
                return await asyncio.gather(f(**kwargs), f(**kwargs))

            a, b = asyncio.run_coroutine_threadsafe(both(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            t.join(10)
            loop.close()
        self.assertEqual(a, [1.5, 0.25])
        self.assertEqual(a, b)
        self.assertEqual(f.rewardkit.null_count, 0)
        self.assertEqual(pickle.loads(pickle.dumps(f.rewardkit))(prompts=["q"], completions=["42"], answer=["42"]), [1.5])

    def test_verl_reward_loop_awaits_compute_score_async(self):
        wrapped = functools.partial(merge_kwargs_async, rk.compute_score_async, {"url": URL, "token": TOKEN, "acc": True})
        self.assertTrue(inspect.iscoroutinefunction(wrapped))  # verl's test of the wrapped function
        out = asyncio.run(wrapped(data_source="openai/gsm8k", solution_str="42", ground_truth="42", extra_info={"index": 0}))
        self.assertEqual((out["score"], out["acc"]), (1.5, 1.0))


async def merge_kwargs_async(fn, extra, *args, **kwargs):
    return await fn(*args, **{**kwargs, **extra})


class PerComponentTest(unittest.TestCase):
    kwargs = dict(
        prompts=["6*7?", "6*7?", "6*7?", "1+1?"],
        completions=["42", "41", "42", "2"],
        completion_ids=[[1], [2, 3], [4], [5]],
        ground_truth=["42", "42", None, "2"],
        trainer_state=None,
    )

    def test_one_function_per_component_one_request_per_batch(self):
        funcs = rk.reward_funcs_per_component(URL, spec="exact", token=TOKEN)
        self.assertEqual([f.__name__ for f in funcs], ["correct", "close"])
        self.assertEqual([f.weight for f in funcs], [1.0, 0.5])
        client = funcs[0].shared.base.client
        before = client.requests_sent
        metrics = {}
        kw = dict(self.kwargs, log_metric=lambda k, v: metrics.setdefault(k, v))
        correct, close = [f(**kw) for f in funcs]
        self.assertEqual(client.requests_sent - before, 1)
        # the third completion has no reference: each component sends its prompt's judged mean
        self.assertEqual(correct, [1.0, 0.0, 0.5, 1.0])
        self.assertEqual(close, [1.0, 0.5, 0.75, 1.0])
        self.assertEqual(metrics["correct/null_rate"], 0.25)
        # a new batch: a new request
        funcs[1](prompts=["q"], completions=["x"], ground_truth=["x"])
        self.assertEqual(client.requests_sent - before, 2)
        # TRL's default aggregation with reward_weights from the spec: Σ w·f is the spec's reward
        total = rk.rewardkit_reward(URL, spec="exact", token=TOKEN)(**self.kwargs)
        for i in range(4):
            self.assertAlmostEqual(1.0 * correct[i] + 0.5 * close[i], total[i])

    def test_none_for_normalize_then_sum(self):
        funcs = rk.reward_funcs_per_component(URL, spec="exact", token=TOKEN, null="none", prefix="rk_")
        self.assertEqual([f.__name__ for f in funcs], ["rk_correct", "rk_close"])
        self.assertEqual(funcs[0](**self.kwargs), [1.0, 0.0, None, 1.0])

    def test_concurrent_calls_share_one_request(self):
        # TRL's AsyncGRPOTrainer runs sync reward functions with asyncio.to_thread, concurrently.
        funcs = pickle.loads(pickle.dumps(rk.reward_funcs_per_component(URL, spec="diverse", token=TOKEN)))
        self.assertIs(funcs[0].shared, funcs[1].shared)
        client = funcs[0].shared.base.client
        before = client.requests_sent

        async def run():
            return await asyncio.gather(*(asyncio.to_thread(f, **self.kwargs) for f in funcs * 3))

        outs = asyncio.run(run())
        self.assertEqual(client.requests_sent - before, 1)
        self.assertEqual(outs[0], outs[2])

    def test_async_variant(self):
        funcs = rk.reward_funcs_per_component(URL, spec="exact", token=TOKEN, asynchronous=True)
        self.assertTrue(all(inspect.iscoroutinefunction(f) for f in funcs))
        self.assertEqual([f.weight for f in funcs], [1.0, 0.5])

        async def run():
            return await asyncio.gather(*(f(**self.kwargs) for f in funcs))

        self.assertEqual(asyncio.run(run())[0], [1.0, 0.0, 0.5, 1.0])

    def test_unknown_component_or_spec(self):
        with self.assertRaises(ValueError):
            rk.reward_funcs_per_component(URL, spec="exact", token=TOKEN, components=["nope"])
        with self.assertRaises(ValueError):
            rk.reward_funcs_per_component(URL, spec="nope", token=TOKEN)
        self.assertEqual([f.__name__ for f in rk.reward_funcs_per_component(URL, token=TOKEN)], ["correct", "close"])  # default spec


def verl_like_extra_info(index):
    """What verl's non_tensor_batch hands over: numpy scalars and arrays when numpy is there."""
    info = {"split": "train", "index": index, "num_turns": None, "rollout_reward_scores": {}}
    if np is not None:
        info["index"] = np.int64(index)
        info["tags"] = np.array(["a", "b"], dtype=object)
    return info


class DapoTest(unittest.TestCase):
    """verl's DAPO reward manager: compute_score per response; a dict's keys go to reward_extra_info
    (one list per key), and filter_groups.metric=acc keeps groups whose std of acc is > 0."""

    kw = {"url": URL, "token": TOKEN, "acc": True}

    def run_dapo(self, items, **extra):
        reward_extra_info = {}
        scores = []
        for data_source, solution, truth, info in items:
            result = rk.compute_score(data_source=data_source, solution_str=solution, ground_truth=truth, extra_info=info, **{**self.kw, **extra})
            self.assertIsInstance(result, dict)
            scores.append(result["score"])
            for k, v in result.items():
                reward_extra_info.setdefault(k, []).append(v)
        return scores, reward_extra_info

    def test_acc_and_the_group_filter(self):
        truth = np.array(["42"], dtype=object) if np is not None else ["42"]
        items = [
            ("openai/gsm8k", "42", truth, verl_like_extra_info(0)),  # group 0: mixed → kept
            ("openai/gsm8k", "41", truth, verl_like_extra_info(0)),
            ("openai/gsm8k", "42", truth, verl_like_extra_info(1)),  # group 1: all right → dropped
            ("openai/gsm8k", "42", truth, verl_like_extra_info(1)),
            ("openai/gsm8k", "42", truth, verl_like_extra_info(2)),  # group 2: one cannot be judged → dropped
            ("openai/gsm8k", "41", None, verl_like_extra_info(2)),
            ("diverse", "42", "42", verl_like_extra_info(3)),  # another spec: same keys
            ("diverse", "4", "42", verl_like_extra_info(3)),
        ]
        scores, extra = self.run_dapo(items)
        self.assertEqual(sorted(extra), ["acc", "rk/close", "rk/correct", "rk/novel", "rk_meta/error", "rk_meta/null_reward", "score"])
        for k, v in extra.items():
            self.assertEqual(len(v), len(items), k)  # verl needs one value per response for every key
        self.assertEqual(scores[:6], [1.5, 0.25, 1.5, 1.5, 1.5, 0.0])
        self.assertEqual(extra["acc"][:5], [1.0, 0.0, 1.0, 1.0, 1.0])
        self.assertTrue(math.isnan(extra["acc"][5]))
        self.assertEqual(extra["rk_meta/null_reward"][5], 1.0)
        self.assertEqual(extra["acc"][6:], [1.0, 0.0])
        uids = [0, 0, 1, 1, 2, 2, 3, 3]
        kept = dapo_kept_groups(uids, extra["acc"])
        self.assertEqual(kept, [0, 3])

    def test_acc_from_the_reward_threshold_and_acc_null_zero(self):
        _, extra = self.run_dapo([("openai/gsm8k", "42", "42", None), ("openai/gsm8k", "41", "42", None), ("openai/gsm8k", "41", None, None)], acc_component=None, acc_threshold=0.2, acc_null=0.0)
        self.assertEqual(extra["acc"], [1.0, 1.0, 0.0])  # rewards 1.5, 0.25 ≥ 0.2; the null one counts as wrong

    def test_batch_manager_with_acc(self):
        out = rk.compute_score_batch(["openai/gsm8k"] * 3, ["42", "41", "42"], ["42", "42", None], [verl_like_extra_info(0)] * 3, **self.kw)
        self.assertEqual([o["score"] for o in out], [1.5, 0.25, 0.875])
        self.assertEqual([o["acc"] for o in out][:2], [1.0, 0.0])
        self.assertTrue(math.isnan(out[2]["acc"]))


def dapo_kept_groups(uids, metric):
    """DAPO's dynamic sampling filter: a group is kept when the std of its metric is > 0 (or it has one
    member); NaN std (a NaN member) is not > 0."""
    groups = {}
    for u, v in zip(uids, metric):
        groups.setdefault(u, []).append(float(v))
    kept = []
    for u, vals in groups.items():
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
        if np is not None:
            std = float(np.std(vals))
        if std > 0 or len(vals) == 1:
            kept.append(u)
    return kept


class PrimeTest(unittest.TestCase):
    """verl's prime reward manager: compute_score loaded by file path, sent to a ProcessPoolExecutor."""

    items = [
        {"data_source": "openai/gsm8k", "solution": "42", "ground_truth": "42", "extra_info": {"index": 0}},
        {"data_source": "openai/gsm8k", "solution": "41", "ground_truth": "42", "extra_info": {"index": 0}},
    ]

    def emulate(self, loader, method, path, name="compute_score", kwargs=None):
        kwargs = kwargs if kwargs is not None else {"url": URL, "token": TOKEN}
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "verl_prime_emulation.py"), loader, method, path, name, json.dumps(kwargs), json.dumps(self.items)],
            cwd=tempfile.gettempdir(),  # not next to the client: it is importable only because it says so
            capture_output=True, text=True, timeout=120, env=env,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def test_a_plain_reward_file_fails_there(self):
        # The failure the client must avoid, reproduced: pickling by module name fails, prime scores 0.0.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "plain_reward.py")
            with open(path, "w") as f:
                f.write("def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kw):\n    return 1.0\n")
            res = self.emulate("new", "fork", path, kwargs={})
        self.assertEqual(res["scores"], [0.0, 0.0])
        self.assertIn("custom_module_", res["errors"][0])

    def test_the_client_loaded_by_path_scores_in_the_pool(self):
        path = os.path.join(HERE, "rewardkit_client.py")
        for loader in ("new", "old"):
            for method in ("fork", "spawn", "forkserver"):
                with self.subTest(loader=loader, method=method):
                    res = self.emulate(loader, method, path)
                    self.assertEqual(res, {"scores": [1.5, 0.25], "errors": []})


class ErrorFlagTest(unittest.TestCase):
    """A component that failed with an error is null, flagged and logged — never a silent 0."""

    @staticmethod
    def results(rollouts):
        out = []
        for r in rollouts:
            if r["completion"] == "boom":
                out.append({"id": r["id"], "reward": None, "components": {"correct": None}, "errors": [{"component": "correct", "message": "sandbox failed: out of memory"}]})
            else:
                out.append({"id": r["id"], "reward": 1.0, "components": {"correct": 1.0}})
        return out

    def setUp(self):
        self.s = StubServer(results=self.results, specs={"default_spec": "s", "specs": [{"name": "s", "components": [{"name": "correct", "weight": 1}], "combine": {"type": "weighted_sum"}}]})
        self.addCleanup(self.s.close)

    def test_trl_flags_logs_and_sends_neutral(self):
        fn = rk.rewardkit_reward(self.s.url, spec="s", token=None)
        metrics, extra = {}, {}
        with self.assertLogs("rewardkit_client", "WARNING") as logs:
            out = fn(prompts=["p", "p"], completions=["ok", "boom"], answer=["1", "1"], log_metric=lambda k, v: metrics.setdefault(k, v), log_extra=lambda k, v: extra.setdefault(k, v))
        self.assertEqual(out, [1.0, 1.0])  # the group's judged mean: advantage 0, not a wrong answer's 0
        self.assertEqual(metrics["rewardkit_s/error_rate"], 0.5)
        self.assertEqual(extra["rewardkit_s/null_reward"], [0, 1])
        self.assertEqual(extra["rewardkit_s/error"], ["", "correct: sandbox failed: out of memory"])
        self.assertIn("sandbox failed: out of memory", logs.output[0])
        self.assertEqual(fn.error_count, 1)

    def test_verl_flags_the_error(self):
        with self.assertLogs("rewardkit_client", "WARNING"):
            out = rk.compute_score("d", "boom", "1", None, url=self.s.url, details=True)
        self.assertEqual((out["rk_meta/error"], out["rk_meta/null_reward"]), (1.0, 1.0))

    def test_unreachable_server_raises_not_zero(self):
        with self.assertRaises(rk.RewardkitError):
            rk.compute_score("d", "x", "1", None, url="http://127.0.0.1:9", deadline=0.5)


class StandInRubric:
    """A stand-in for ``verifiers.Rubric`` (verifiers is not installed here), following its calling
    convention: ``Rubric(funcs, weights, parser=None)``; a function whose parameters include plural
    names (prompts, completions, answers, states, tasks, infos) is a group function, called once per
    group with lists and awaited when it returns an awaitable; the reward is Σ weight·value and the
    advantage reward − group mean."""

    def __init__(self, funcs=None, weights=None, parser=None):
        self.funcs = funcs or []
        self.weights = weights or [1.0] * len(self.funcs)
        self.parser = parser

    @staticmethod
    def is_group(func):
        return bool(set(inspect.signature(func).parameters) & {"prompts", "completions", "answers", "states", "tasks", "infos"})

    async def score_group(self, states):
        rewards = [0.0] * len(states)
        metrics = {}
        for func, w in zip(self.funcs, self.weights):
            assert self.is_group(func)
            objects = dict(prompts=[s["prompt"] for s in states], completions=[s["completion"] for s in states], answers=[s.get("answer", "") for s in states], states=states, tasks=[None] * len(states), infos=[s.get("info", {}) for s in states], parser=self.parser)
            values = func(**objects)
            if inspect.isawaitable(values):
                values = await values
            metrics[func.__name__] = values
            for i, v in enumerate(values):
                rewards[i] += v * w
        mean = sum(rewards) / len(rewards)
        for i, s in enumerate(states):
            s["reward"], s["advantage"] = rewards[i], rewards[i] - mean
            s["metrics"] = {k: v[i] for k, v in metrics.items()}


class VerifiersTest(unittest.TestCase):
    def with_verifiers(self):
        fake = types.ModuleType("verifiers")
        fake.Rubric = StandInRubric
        saved = sys.modules.get("verifiers")
        sys.modules["verifiers"] = fake
        self.addCleanup(lambda: sys.modules.__setitem__("verifiers", saved) if saved is not None else sys.modules.pop("verifiers", None))

    def states(self):
        prompt = [{"role": "user", "content": "What is 6*7?"}]
        return [
            {"prompt": prompt, "completion": [{"role": "assistant", "content": c}], "answer": a, "info": {}}
            for c, a in (("42", "42"), ("41", "42"), ("42", ""))
        ]

    def test_without_verifiers_a_clear_import_error(self):
        saved = sys.modules.get("verifiers")
        sys.modules["verifiers"] = None  # import fails
        try:
            with self.assertRaises(ImportError) as cm:
                rk.rewardkit_rubric(URL, spec="exact", token=TOKEN)
        finally:
            if saved is not None:
                sys.modules["verifiers"] = saved
            else:
                sys.modules.pop("verifiers", None)
        self.assertIn("pip install verifiers", str(cm.exception))

    def test_components_with_the_specs_weights(self):
        self.with_verifiers()
        rubric = rk.rewardkit_rubric(URL, spec="exact", token=TOKEN)
        self.assertEqual([f.__name__ for f in rubric.funcs], ["correct", "close"])
        self.assertEqual(rubric.weights, [1.0, 0.5])
        self.assertTrue(all(StandInRubric.is_group(f) for f in rubric.funcs))
        client = rubric.funcs[0].shared.base.client
        before = client.requests_sent
        states = self.states()
        asyncio.run(rubric.score_group(states))
        self.assertEqual(client.requests_sent - before, 1)
        # the third has no answer: null components → the group's judged means, advantage 0
        self.assertEqual([s["reward"] for s in states], [1.5, 0.25, 0.875])
        self.assertAlmostEqual(states[2]["advantage"], 0.0)
        self.assertEqual(states[1]["metrics"], {"correct": 0.0, "close": 0.5})

    def test_total_reward_with_component_metrics(self):
        self.with_verifiers()
        rubric = rk.rewardkit_rubric(URL, spec="diverse", token=TOKEN, reward="total")
        self.assertEqual([f.__name__ for f in rubric.funcs], ["rewardkit_diverse", "correct", "novel"])
        self.assertEqual(rubric.weights, [1.0, 0.0, 0.0])
        states = self.states()
        asyncio.run(rubric.score_group(states))
        self.assertEqual(states[0]["metrics"]["correct"], 1.0)

    def test_components_need_a_weighted_sum(self):
        self.with_verifiers()
        s = StubServer(specs={"default_spec": "m", "specs": [{"name": "m", "components": [{"name": "a", "weight": 1}], "combine": {"type": "min"}}]})
        self.addCleanup(s.close)
        with self.assertRaises(ValueError) as cm:
            rk.rewardkit_rubric(s.url)
        self.assertIn("reward='total'", str(cm.exception))
        self.assertEqual(len(rk.rewardkit_rubric(s.url, reward="total").funcs), 2)



if __name__ == "__main__":
    unittest.main()
