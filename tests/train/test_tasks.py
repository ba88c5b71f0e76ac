import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import DataLoader, TensorDataset

from mlcanon.cli import main
from mlcanon.train import TaskConfig, TaskSetup, get_task, register_task, run_task

SRC = Path(__file__).resolve().parents[2] / "src"


def test_cli_trains_and_resumes_from_newest_valid_checkpoint(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["train", "digits-cnn", "--out", str(first), "--epochs", "1"]) == 0
    names = sorted(p.name for p in (first / "checkpoints").iterdir())
    # 22 steps per epoch, a checkpoint every 5 steps and at the epoch's end; 2 kept
    assert names == ["ckpt-000000020.safetensors", "ckpt-000000022.safetensors"]
    assert main(["train", "digits-cnn", "--out", str(second), "--epochs", "1"]) == 0
    # a run killed while writing step 22 would have left at most a .tmp; here the newest file is
    # damaged instead, so --resume must fall back to step 20 and replay the last two batches
    newest = second / "checkpoints" / "ckpt-000000022.safetensors"
    newest.write_bytes(newest.read_bytes()[:-100])
    (second / "model.safetensors").unlink()
    with pytest.warns(RuntimeWarning, match="ckpt-000000022"):
        code = main(["train", "digits-cnn", "--out", str(second), "--epochs", "1", "--resume"])
    assert code == 0
    assert "resumed from" in capsys.readouterr().out
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["train", "no-such-task", "--out", str(tmp_path)]) == 2
    assert "known tasks: digits-cnn" in capsys.readouterr().err
    ckpt = tmp_path / "checkpoints"
    ckpt.mkdir()
    (ckpt / "ckpt-000000001.safetensors").write_bytes(b"")
    assert main(["train", "digits-cnn", "--out", str(tmp_path), "--epochs", "1"]) == 2
    assert "pass --resume" in capsys.readouterr().err


@pytest.mark.parametrize("seed", ["-1", "4294967296", "99999999999999999999"])
def test_cli_seed_out_of_range_is_refused_before_training(tmp_path, capsys, seed):
    out = tmp_path / "run"
    assert main(["train", "digits-cnn", "--out", str(out), "--epochs", "1", "--seed", seed]) == 2
    captured = capsys.readouterr()
    assert f"--seed must be an integer in [0, 4294967295], got {seed}" in captured.err
    assert "weights sha256" not in captured.out and not out.exists()  # nothing trained
    with pytest.raises(ValueError, match=r"seed must be <= 4294967295, got 4294967296"):
        run_task("digits-cnn", out, epochs=1, seed=2**32)
    assert not out.exists()


def test_cli_out_that_cannot_be_written_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["train", "digits-cnn", "--out", str(blocker / "sub"), "--epochs", "1"]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err and "cannot be written" in captured.err
    assert "weights sha256" not in captured.out  # nothing trained


def test_world_size_that_cannot_split_the_batch():
    with pytest.raises(ValueError, match=r"num_replicas=3 \(the world size\)"):
        get_task("digits-cnn").build(TaskConfig(epochs=1, seed=0, rank=0, world_size=3))
    with pytest.raises(ValueError, match="64 samples cannot be split over world_size=3"):
        TaskConfig(epochs=1, seed=0, world_size=3).per_rank(64)


def test_register_task_twice_is_refused():
    task = get_task("digits-cnn")
    register_task("digits-cnn", task.build)  # the same builder again is harmless
    with pytest.raises(ValueError, match="already registered"):
        register_task("digits-cnn", lambda cfg: None)


def test_torchrun_two_ranks_match_each_other_and_one_process(tmp_path, torchrun):
    r = torchrun(
        ["-m", "mlcanon", "train", "digits-cnn", "--out", str(tmp_path / "ddp"), "--epochs", "1"],
        timeout=600,
    )
    # the two ranks share stdout, so another line may follow a digest without a newline between
    digests = dict(re.findall(r"rank (\d)/2 weights sha256 ([0-9a-f]{16})", r.stdout))
    assert set(digests) == {"0", "1"}
    assert digests["0"] == digests["1"]  # both replicas hold the same weights, bit for bit
    run_task("digits-cnn", tmp_path / "one", epochs=1, progress=False)
    a = load_file(tmp_path / "ddp" / "model.safetensors")
    b = load_file(tmp_path / "one" / "model.safetensors")
    # same global batch of 64 (2 ranks x 32) and the same sample stream: only the order of the
    # float32 sums differs, so 22 Adam steps stay within 1e-5 (66 steps measured: 3.8e-7)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-5)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL needs a GPU for each rank")
def test_torchrun_with_nccl_on_two_gpus(tmp_path, torchrun):
    """README: NCCL on GPUs. The epoch's mean loss was all-reduced from a CPU tensor, which
    NCCL refuses ('No backend type associated with device type cpu') at the first epoch's end.
    Reference: the two replicas hold bit-identical weights, as under gloo."""
    r = torchrun(
        ["-m", "mlcanon", "train", "digits-cnn", "--out", str(tmp_path), "--epochs", "1"],
        timeout=600,
    )
    digests = dict(re.findall(r"rank (\d)/2 weights sha256 ([0-9a-f]{16})", r.stdout))
    assert set(digests) == {"0", "1"} and digests["0"] == digests["1"]
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history) == 1 and history[0]["test_acc"] > 0.5


def _least_squares_setup(x, **options):
    """A linear model fitted to ``x`` by SGD on the mean square of its output, in batches of 4."""
    model = torch.nn.Linear(3, 1)
    return TaskSetup(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        lambda m, b: m(b[0]).pow(2).mean(),
        DataLoader(TensorDataset(x), batch_size=4),
        **options,
    )


def test_history_json_is_strict_json_when_a_metric_is_not_finite(tmp_path):
    """A NaN or infinite metric was written as the bare tokens NaN / Infinity, which JSON (RFC
    8259) does not have: a strict parser (here Python's with parse_constant raising, as
    JavaScript's JSON.parse) refused the file. They are now null; finite values unchanged."""
    torch.manual_seed(0)
    x = torch.randn(8, 3)
    values = iter([float("nan"), float("inf"), 0.5, float("-inf")])

    def build(cfg):
        return _least_squares_setup(x, evaluate=lambda m: {"a": next(values), "b": next(values)})

    register_task("test-nan-metric", build)
    run_task("test-nan-metric", tmp_path, epochs=2, progress=False)

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    written = json.loads((tmp_path / "history.json").read_text(), parse_constant=refuse)
    assert [(e["a"], e["b"]) for e in written] == [(None, None), (0.5, None)]
    assert all(isinstance(e["loss"], float) for e in written)


def test_metrics_given_as_tensors_reach_history_json(tmp_path):
    """``evaluate`` returning a 0-d tensor and a NumPy float32 (``mse.item()`` and ``0.25``
    written by hand): the old code kept them as they were, so ``run_task`` trained, saved the
    weights and then failed writing ``history.json`` (``TypeError: Object of type Tensor is not
    JSON serializable``)."""
    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    seen = []

    def build(cfg):
        model = torch.nn.Linear(3, 1)

        def evaluate(m):
            mse = torch.nn.functional.mse_loss(m(x), y)
            seen.append(mse.item())
            return {"mse": mse, "quarter": np.float32(0.25), "ok": np.bool_(True)}

        return TaskSetup(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]),
            DataLoader(TensorDataset(x, y), batch_size=4),
            evaluate=evaluate,
        )

    register_task("test-tensor-metrics", build)
    history = run_task("test-tensor-metrics", tmp_path, epochs=2, progress=False)
    written = json.loads((tmp_path / "history.json").read_text())
    assert [e["mse"] for e in written] == seen and len(seen) == 2
    assert [e["quarter"] for e in written] == [0.25, 0.25]
    assert [e["ok"] for e in written] == [1.0, 1.0]
    assert all(type(v) is float for e in history for k, v in e.items() if k != "epoch")


@pytest.mark.parametrize(
    "metric", [torch.ones(2), np.zeros(3), "0.5", None, torch.tensor(1j)], ids=repr
)
def test_metric_that_is_not_a_number_is_refused_by_name(tmp_path, metric):
    setup = _least_squares_setup(torch.randn(4, 3), evaluate=lambda m: {"score": metric})
    trainer = setup.trainer(progress=False)
    with pytest.raises(TypeError, match=r"evaluate must return a number .* for 'score'"):
        trainer.fit(1)


def test_cli_unknown_task_is_refused_before_out_is_created(tmp_path):
    """As README says of bad input (and as --seed already was): one line, status 2, nothing
    written. The old code created --out first and left an empty folder behind."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "mlcanon", "train", "no-such-task", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: unknown task 'no-such-task'; known tasks: digits-cnn")
    assert len(r.stderr.splitlines()) == 1 and r.stdout == "" and not out.exists()


@pytest.mark.parametrize("epochs", ["0", "-3"])
def test_cli_epochs_below_one_is_refused_by_the_option_name(tmp_path, capsys, epochs):
    """The old code said ``epochs must be >= 1`` (not the option) after creating --out."""
    out = tmp_path / "run"
    assert main(["train", "digits-cnn", "--out", str(out), "--epochs", epochs]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"error: --epochs must be an integer >= 1, got {epochs}"
    assert captured.out == "" and not out.exists()


def test_each_rank_line_is_one_write(tmp_path, monkeypatch):
    """POSIX makes one write of at most PIPE_BUF (4096) bytes to a pipe atomic, so ranks that
    share stdout cannot split each other's lines if a line and its newline go out together.
    print() writes the newline apart, a separate write(2) when unbuffered (PYTHONUNBUFFERED=1,
    as on CI): another rank's line could land in between."""

    class Recorder(io.StringIO):
        def __init__(self):
            super().__init__()
            self.calls = []

        def write(self, text):
            self.calls.append(text)
            return super().write(text)

    x = torch.randn(8, 3)

    register_task("test-one-write", lambda cfg: _least_squares_setup(x))
    recorder = Recorder()
    monkeypatch.setattr(sys, "stdout", recorder)
    run_task("test-one-write", tmp_path, epochs=1, progress=False)
    run_task("test-one-write", tmp_path, epochs=1, resume=True, progress=False)
    lines = [c for c in recorder.calls if c.strip()]
    assert len(lines) == 3, recorder.calls
    assert re.fullmatch(r"rank 0/1 weights sha256 [0-9a-f]{16}\n", lines[0])
    assert re.fullmatch(
        r"resumed from \S+ckpt-000000002\.safetensors \(epoch 1, step 2\)\n", lines[1]
    )
    assert re.fullmatch(r"rank 0/1 weights sha256 [0-9a-f]{16}\n", lines[2])


def test_cli_resume_with_another_seed_or_epochs_is_refused(tmp_path, capsys):
    """The old checkpoint held no run settings: ``--resume --seed 1`` continued a seed-0 run with
    another sample order, and ``--resume --epochs 1`` on a finished 2-epoch run saved the 2-epoch
    weights as the 1-epoch result. Documented behaviour (cli.py): bad input ends with one line
    naming the option and exit status 2, and nothing is written."""
    out = tmp_path / "run"
    assert main(["train", "digits-cnn", "--out", str(out), "--epochs", "2", "--seed", "0"]) == 0
    weights = load_file(out / "model.safetensors")
    capsys.readouterr()
    cases = [(["--seed", "1"], "--seed", "1", "0"), ([], "--epochs", "1", "2")]
    cases += [(["--seed", "0"], "--epochs", "3", "2")]
    written = (out / "model.safetensors").stat().st_mtime_ns
    for extra, option, given, saved in cases:
        args = ["train", "digits-cnn", "--out", str(out), "--resume", *extra]
        args += ["--epochs", given] if option == "--epochs" else ["--epochs", "2"]
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert err.startswith(
            f"error: {option} {given} does not match the checkpointed run's {option} {saved} ("
        ), err
        assert (out / "model.safetensors").stat().st_mtime_ns == written  # not rewritten
    # the same settings resume (nothing left to train) and leave the same weights
    assert main(["train", "digits-cnn", "--out", str(out), "--resume", "--epochs", "2"]) == 0
    again = load_file(out / "model.safetensors")
    assert again.keys() == weights.keys() and all(torch.equal(again[k], weights[k]) for k in again)


def test_resume_without_epochs_continues_the_checkpointed_schedule(tmp_path):
    """Without --epochs the old resume used the task default (3) with a 2-epoch checkpoint: a
    cosine schedule over another number of steps and a third epoch. Reference: the same run
    uninterrupted, bit for bit."""
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert main(["train", "digits-cnn", "--out", str(whole), "--epochs", "2"]) == 0
    assert main(["train", "digits-cnn", "--out", str(broken), "--epochs", "2"]) == 0
    ckpts = sorted((broken / "checkpoints").iterdir())
    assert [p.name for p in ckpts] == ["ckpt-000000040.safetensors", "ckpt-000000044.safetensors"]
    ckpts[-1].unlink()  # as if killed after step 40
    (broken / "model.safetensors").unlink()
    assert main(["train", "digits-cnn", "--out", str(broken), "--resume"]) == 0
    a, b = load_file(whole / "model.safetensors"), load_file(broken / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    history = json.loads((broken / "history.json").read_text())
    assert len(history) == 2 and history == json.loads((whole / "history.json").read_text())


def test_checkpoint_without_settings_still_resumes(tmp_path):
    """Checkpoints written before the settings were saved hold none: they resume unchecked."""
    from mlcanon.train._checkpoint import load_state_file, save_state_file

    out = tmp_path / "run"
    run_task("digits-cnn", out, epochs=1, seed=0, progress=False)
    for path in (out / "checkpoints").iterdir():
        _, state = load_state_file(path)
        assert state.pop("settings") == {"task": "digits-cnn", "seed": 0, "epochs": 1}
        save_state_file(path, state)
    history = run_task("digits-cnn", out, epochs=1, seed=5, resume=True, progress=False)
    assert len(history) == 1


def test_fit_to_fewer_epochs_than_done_is_refused(tmp_path):
    trainer = _least_squares_setup(torch.randn(4, 3)).trainer(progress=False)
    assert len(trainer.fit(2)) == 2 and len(trainer.fit(2)) == 2
    with pytest.raises(ValueError, match=r"epochs=1 but 2 epochs are already complete"):
        trainer.fit(1)


def test_cli_diverging_run_is_one_line_and_keeps_its_checkpoints(tmp_path, capsys):
    """A registered task whose loss turns NaN ended ``mlcanon train`` with a FloatingPointError
    traceback; it is now one line naming the epoch and step, exit status 1, and the checkpoints
    saved before the failing step stay on disk."""
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    x[4:] = float("nan")  # the second batch of the first epoch

    def build(cfg):
        setup = _least_squares_setup(x, checkpoint_every=1)
        setup.train_loader = DataLoader(TensorDataset(x), batch_size=4)  # no shuffling
        return setup

    register_task("test-diverging", build)
    out = tmp_path / "run"
    assert main(["train", "test-diverging", "--out", str(out), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert re.search(r"error: training stopped: loss is nan at epoch 0, step 1;", err), err
    assert str(out / "checkpoints") in err.replace("\n", "")
    assert any((out / "checkpoints").iterdir())


def test_cli_run_whose_monitored_metric_turns_nan_stops_in_one_line(tmp_path, capsys):
    """Early stopping refused a NaN validation metric with a ValueError, which the command
    printed as a usage error (status 2). The Trainer now stops there (Lightning's
    check_finite); the command says so in one line, exit status 1, writes no weights file of
    the NaN epoch and keeps the checkpoints of the epochs before it."""
    from mlcanon.train import EarlyStopping

    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    values = iter([0.5, 0.25, float("nan")])

    def build(cfg):
        return _least_squares_setup(
            x,
            evaluate=lambda m: {"val_loss": next(values)},
            early_stopping=EarlyStopping(),
            monitor="val_loss",
        )

    register_task("test-nan-monitored", build)
    out = tmp_path / "run"
    assert main(["train", "test-nan-monitored", "--out", str(out), "--epochs", "5"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert re.search(
        r"error: training stopped: early stopping after epoch 3: the monitored metric "
        r"val_loss=nan is not finite; its best value was 0.25 at epoch 2;",
        err,
    ), err
    assert not (out / "model.safetensors").exists()
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert names == ["ckpt-000000002.safetensors", "ckpt-000000004.safetensors"]
