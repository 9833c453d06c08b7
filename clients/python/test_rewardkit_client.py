"""Tests of rewardkit_client.py against a running rewardkit server (standard library only).

The server's test suite (src/server/python.test.ts) starts the server on a loopback port with the
fixture specs of src/server/fixtures/specs and runs:

    REWARDKIT_TEST_URL=http://127.0.0.1:PORT REWARDKIT_TEST_TOKEN=T python3 -m unittest -v test_rewardkit_client

Fixture specs: ``exact`` (correct: exact ×1, close: edit_distance ×0.5, GRPO; the default spec, and
the route of data_source ``openai/gsm8k``) and ``diverse`` (correct: exact ×1, novel: distinct_n ×0.25).
"""

import json
import os
import pickle
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rewardkit_client as rk  # noqa: E402

URL = os.environ.get("REWARDKIT_TEST_URL", "http://127.0.0.1:8000")
TOKEN = os.environ.get("REWARDKIT_TEST_TOKEN") or None
SANDBOX = os.environ.get("REWARDKIT_TEST_SANDBOX") == "1"


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
        status, resp = self.run_code("int main(){}", "", language="cpp")
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


if __name__ == "__main__":
    unittest.main()
