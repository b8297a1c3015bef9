"""Runs the request fuzzer (tests/fuzz/fuzz_requests.py) for a fixed number of executions: any
crash (an exception other than a clean InvalidRequest) fails the run and prints its input."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytest.importorskip("atheris")
pytestmark = pytest.mark.unit

RUNS = 20000


def test_the_public_request_fuzzer_finds_no_crash(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tests.fuzz.fuzz_requests", f"-runs={RUNS}", "-seed=1",
                          f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    done = re.search(r"#(\d+)\s+DONE\s+cov: (\d+)", log)
    assert done and int(done.group(1)) >= RUNS and int(done.group(2)) > 50, log[-1000:]  # it reached our code
