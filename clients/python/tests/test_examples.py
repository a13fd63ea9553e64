"""The examples in examples/ run against a real tensord and reach their stated targets."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = os.path.join(REPO, "examples")


def run_example(args, url, timeout, pipeline=False):
    env = dict(os.environ, TENSORD_URL=url, TENSORD_PIPELINE="1" if pipeline else "0")
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("pipeline", [False, True], ids=["sync", "pipelined"])
def test_seed_py_prints_exactly(tensord_url, client, pipeline):
    before = len(client.sessions())
    out = run_example([sys.executable, os.path.join(EXAMPLES, "seed.py")], tensord_url, 60, pipeline)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "\n[2. 4. 6. 8.]\n<NDArray 4 @cpu(0)>\n"
    assert out.stderr == ""
    assert len(client.sessions()) == before          # the default session is deleted at exit


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_sh_with_curl(tensord_url, client):
    before = len(client.sessions())
    out = run_example(["bash", os.path.join(EXAMPLES, "seed.sh")], tensord_url, 60)
    assert out.returncode == 0, out.stderr
    grad = json.loads(out.stdout.strip().splitlines()[-1])
    assert grad["shape"] == [4] and grad["dtype"] == "float32"
    assert grad["data"] == [2, 4, 6, 8]
    assert len(client.sessions()) == before          # the script deletes its session


@pytest.mark.parametrize("pipeline", [False, True], ids=["sync", "pipelined"])
@pytest.mark.parametrize("script", ["linear_regression.py", "mlp_scratch.py"])
def test_training_examples_reach_their_targets(tensord_url, script, pipeline):
    out = run_example([sys.executable, os.path.join(EXAMPLES, script)], tensord_url, 300, pipeline)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "target" in out.stdout and "reached" in out.stdout.splitlines()[-1]
