"""The random-forest lesson's Dask part leaves stderr clean: no log lines, no traceback.

The old code closed its second worker with ``retire_workers(close_workers=True)``: the worker
closed itself behind its nanny's back and, after ``silence_logs`` had let go of it, logged
``distributed.core - INFO - Connection to tcp://... has been closed.`` (every run), at times
``Worker process died unexpectedly`` with a traceback; a cluster already holding port 8787
made the scheduler warn ``Port 8787 is already in use``. Documented behaviour: the lesson
passes ``silence_logs=logging.ERROR`` so that ``mlcanon verify`` prints only its own report.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed")

SRC = Path(__file__).resolve().parents[2] / "src"

SCRIPT = """
from sklearn.datasets import make_classification

from mlcanon.ensemble import RandomForestClassifier
from mlcanon.lessons import get_lesson
from mlcanon.lessons._core import Context, LessonResult
from mlcanon.lessons.trees import _on_dask_processes

if __name__ == "__main__":
    X, y = make_classification(600, 8, n_informative=4, random_state=0)
    seq = RandomForestClassifier(n_estimators=40, random_state=0).fit(X, y)
    result = LessonResult(get_lesson("random-forest"))
    _on_dask_processes(Context(result, figures=False), X, y, seq, [])
    print([c.status for c in result.checks])
"""


def test_dask_part_of_the_forest_lesson_closes_without_stderr_noise(tmp_path):
    script = tmp_path / "dask_part.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with socket.socket() as held:  # another cluster's dashboard port, when it is free
        try:
            held.bind(("127.0.0.1", 8787))
            held.listen()
        except OSError:
            pass  # already taken by someone else: the same situation
        r = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
        )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == str(["pass", "pass", "pass"]), r.stdout
    assert r.stderr == "", r.stderr[-3000:]
