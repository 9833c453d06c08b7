"""Test helper: drives a reward function file the way verl's prime reward manager does.

    python3 verl_prime_emulation.py LOADER START_METHOD FILE NAME KWARGS_JSON ITEMS_JSON

- LOADER ``new``: verl ≥ 0.5 ``load_extern_object`` — ``importlib.util.spec_from_file_location``
  under ``custom_module_<hash>``, *not* put in ``sys.modules``; ``old``: earlier verl — under
  ``custom_module``, put in ``sys.modules``.
- The function is wrapped as verl wraps it (``functools.partial`` of a module-level helper that
  merges ``custom_reward_function.reward_kwargs``) and run in a ``concurrent.futures.ProcessPoolExecutor``
  (START_METHOD: fork, spawn or forkserver) from an asyncio loop, each call
  ``func(data_source, solution_str, ground_truth, extra_info)`` positionally; a call that raises (a
  pickling failure included) scores 0.0, as prime does.

Prints one JSON line: ``{"scores": [...], "errors": [...]}``. Runs in its own process so that the
reward file is loaded exactly once, by path, as in a verl worker.
"""

import asyncio
import concurrent.futures
import functools
import importlib.util
import json
import multiprocessing
import os
import sys


def merge_kwargs(fn, extra, *args, **kwargs):
    """verl's wrapper: call-time kwargs, then the configured reward_kwargs."""
    return fn(*args, **{**kwargs, **extra})


def load(loader, path):
    if loader == "new":
        name = f"custom_module_{hash(os.path.abspath(path))}"
    else:
        name = "custom_module"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    if loader == "old":
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


async def score_all(func, items, executor):
    loop = asyncio.get_running_loop()
    errors = []

    async def one(item):
        try:
            fut = loop.run_in_executor(executor, functools.partial(func, item["data_source"], item["solution"], item["ground_truth"], item.get("extra_info")))
            return await asyncio.wait_for(fut, timeout=120)
        except Exception as e:  # prime: print the error, score 0.0
            errors.append(f"{type(e).__name__}: {e}")
            return None

    results = await asyncio.gather(*(one(i) for i in items))
    scores = []
    for r in results:
        if r is None:
            scores.append(0.0)
        elif isinstance(r, (int, float, bool)):
            scores.append(float(r))
        else:
            scores.append(float(r[0]))
    return scores, errors


def main():
    loader, method, path, name, kwargs_json, items_json = sys.argv[1:7]
    module = load(loader, path)
    func = functools.partial(merge_kwargs, getattr(module, name), json.loads(kwargs_json))
    items = json.loads(items_json)
    ctx = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        scores, errors = asyncio.run(score_all(func, items, executor))
    print(json.dumps({"scores": scores, "errors": errors}))


if __name__ == "__main__":
    main()
