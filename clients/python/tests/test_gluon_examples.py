"""examples/digits_mlp.py trains on real data (scikit-learn's digits) to >= 95% test accuracy.

The CNN example is checked by scripts/checks/digits.sh (a release build keeps it fast).
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO

pytest.importorskip("sklearn", reason="scikit-learn is needed for the digits data")


def test_digits_mlp_reaches_95_percent(tensord_url):
    env = dict(os.environ, TENSORD_URL=tensord_url,
               PYTHONPATH=os.pathsep.join([os.path.join(REPO, "clients", "python", "src")]
                                          + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    out = subprocess.run([sys.executable, os.path.join(REPO, "examples", "digits_mlp.py")], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    epochs = [line for line in out.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 20 and all("loss" in line for line in epochs)
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith("RESULT ")][-1][7:])
    assert result["model"] == "digits_mlp" and result["test_accuracy"] >= 0.95
