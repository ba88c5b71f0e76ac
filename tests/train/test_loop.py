import copy
import json
import math
import os
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.utils.data import DataLoader, TensorDataset

from mlcanon.train import (
    CheckpointError,
    EarlyStopping,
    Trainer,
    load_weights,
    save_weights,
    warmup_cosine,
)

SCRIPT = Path(__file__).with_name("_killable_run.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def _run(*args):
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    r = _run(full)
    assert r.returncode == 0, r.stderr
    # 13 batches per epoch, a checkpoint every 4 steps: step 18 is batch 5 of epoch 2, and the
    # newest checkpoint is step 16 (batch 3 of epoch 2).
    r = _run(killed, "--kill-at", 18)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert not (killed / "final.safetensors").exists()
    names = sorted(p.name for p in (killed / "checkpoints").iterdir())
    assert names == ["ckpt-000000013.safetensors", "ckpt-000000016.safetensors"]
    r = _run(killed, "--resume")
    assert r.returncode == 0, r.stderr
    assert "resumed from ckpt-000000016.safetensors at step 16" in r.stdout
    a = load_file(full / "final.safetensors")
    b = load_file(killed / "final.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k  # bit-identical, not merely close


def _mlp(seed=0, hidden=16):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2)
    )


def _trainer(model, tmp_path, **kw):
    torch.manual_seed(1)
    x = torch.randn(40, 4)
    y = (x.sum(1) > 0).long()
    opt = kw.pop("optimizer", None) or torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True)
    kw.setdefault("checkpoint_dir", tmp_path / "ckpt")
    return Trainer(
        model, opt, lambda m, b: F.cross_entropy(m(b[0]), b[1]), loader, progress=False, **kw
    )


def test_truncated_or_corrupted_checkpoint_is_named_and_previous_survives(tmp_path):
    t = _trainer(_mlp(), tmp_path)
    t.fit(2)
    newest, previous = t.checkpoints()
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])
    fresh = _trainer(_mlp(), tmp_path)
    with pytest.raises(CheckpointError, match=newest.name):
        fresh.load_checkpoint(newest)
    assert previous.exists()
    with pytest.warns(RuntimeWarning, match=newest.name):
        assert fresh.resume() == previous
    assert fresh.epoch == 1 and fresh.step == 4
    # one flipped byte in the tensor data: the digest catches it
    data = bytearray(previous.read_bytes())
    data[-3] ^= 0xFF
    previous.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        fresh.load_checkpoint(previous)
    with pytest.raises(CheckpointError, match="no valid checkpoint"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh.resume()


def test_checkpoint_of_another_model_is_refused(tmp_path):
    t = _trainer(_mlp(), tmp_path)
    t.fit(1)
    other = _trainer(_mlp(hidden=8), tmp_path)
    with pytest.raises(ValueError, match=r"another model.*shape mismatches \['0.weight"):
        other.resume()
    save_weights(t.model, tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="another model"):
        load_weights(torch.nn.Linear(4, 2), tmp_path / "w.safetensors")
    same = load_weights(_mlp(seed=5), tmp_path / "w.safetensors")
    for a, b in zip(same.parameters(), t.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "ckpt" / "ckpt-000000001.safetensors"
    path.parent.mkdir()
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")
    with pytest.raises(CheckpointError, match=r"ckpt-000000001.*format is None"):
        _trainer(_mlp(), tmp_path).load_checkpoint(path)


def test_resume_on_empty_folder_starts_fresh(tmp_path):
    assert _trainer(_mlp(), tmp_path).resume() is None


def test_per_step_schedule_and_keep_last(tmp_path):
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = warmup_cosine(opt, 2, 12)
    t = _trainer(model, tmp_path, optimizer=opt, scheduler=sched, checkpoint_every=3, keep_last=3)
    t.fit(3)
    assert t.step == 12 and sched.last_epoch == 12
    assert [p.name for p in t.checkpoints()] == [
        "ckpt-000000012.safetensors",
        "ckpt-000000009.safetensors",
        "ckpt-000000008.safetensors",
    ]


def test_clip_grad_norm_bounds_the_sgd_step(tmp_path):
    # plain SGD: theta' = theta - lr * g * min(1, c / ||g||), so ||theta' - theta|| = lr * c
    model = _mlp()
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    t = _trainer(model, tmp_path, clip_grad_norm=1e-3, checkpoint_dir=None)
    t.optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    t.on_step = lambda tr: setattr(tr, "_stop", True)
    t.train_loader = DataLoader(t.train_loader.dataset, batch_size=40)
    t.fit(1)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert torch.linalg.vector_norm(after - before).item() == pytest.approx(0.5e-3, rel=1e-5)


def test_infinite_clip_grad_norm_leaves_the_step_as_torch(tmp_path):
    """torch.nn.utils.clip_grad_norm_(max_norm=inf) scales by min(1, inf / norm) = 1; the
    Trainer took only a finite bound (ValueError) and still refuses NaN."""
    steps = {}
    for clip in (None, float("inf")):
        model = _mlp()
        t = _trainer(model, tmp_path / str(clip), clip_grad_norm=clip, checkpoint_dir=None)
        t.fit(1)
        steps[clip] = [p.detach().clone() for p in model.parameters()]
    for a, b in zip(steps[None], steps[float("inf")], strict=True):
        assert torch.equal(a, b)
    grads = [torch.randn(3, 4), torch.randn(5)]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, float("inf"))  # the reference: grads untouched
    assert all(torch.equal(p.grad, g) for p, g in zip(params, grads, strict=True))
    with pytest.raises(ValueError, match="clip_grad_norm must be finite, got nan"):
        _trainer(_mlp(), tmp_path, clip_grad_norm=float("nan"))


def test_early_stopping_ends_the_run(tmp_path):
    scores = iter([0.5, 0.6, 0.6, 0.6, 0.9])
    t = _trainer(
        _mlp(),
        tmp_path,
        evaluate=lambda m: next(scores),
        early_stopping=EarlyStopping(patience=2, mode="max"),
    )
    hist = t.fit(5)
    assert [h["val"] for h in hist] == [0.5, 0.6, 0.6, 0.6]


def test_on_step_set_after_construction_runs_after_each_step_before_its_checkpoint(tmp_path):
    """4 batches per epoch, a checkpoint every 2 steps: the callback set on the attribute sees
    steps 1..8 in order, each before that step's checkpoint file exists."""
    t = _trainer(_mlp(), tmp_path, checkpoint_every=2, keep_last=10)
    seen = []

    def record(tr):
        seen.append((tr.step, len(tr.checkpoints())))

    t.on_step = record
    t.fit(2)
    # files ckpt-<step>: steps 2, 4, 6, 8 (the epoch ends, steps 4 and 8, rewrite the same file)
    assert seen == [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2), (6, 2), (7, 3), (8, 3)]
    t.on_step = None
    t.fit(3)
    assert len(seen) == 8


def test_scheduler_of_another_optimizer_is_refused(tmp_path):
    """A scheduler built on another optimizer (a copy made before wrapping, say) was stepped
    without error but never moved the Trainer's rate: 5 epochs of StepLR(step_size=1,
    gamma=0.1) left the rate at 0.1 where torch's loop gives 0.1 * 0.1**4 = 1e-5 at the last
    epoch. Lightning refuses a scheduler whose optimizer was not returned by
    configure_optimizers; so does the Trainer now (ValueError at construction)."""
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    other = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(other, step_size=1, gamma=0.1)
    with pytest.raises(ValueError, match="scheduler StepLR is attached to another optimizer"):
        _trainer(model, tmp_path, scheduler=sched, scheduler_interval="epoch")
    t = Trainer(
        model,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        _trainer(_mlp(), tmp_path).train_loader,
        scheduler=torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1),
        scheduler_interval="epoch",
        progress=False,
    )
    assert [h["lr"] for h in t.fit(5)] == pytest.approx([0.1 * 0.1**e for e in range(5)])
    with pytest.raises(TypeError, match=re.escape("scheduler must be a torch.optim.lr_scheduler")):
        _trainer(_mlp(), tmp_path, scheduler=lambda epoch: 0.5)


def test_bad_loss_values(tmp_path):
    t = _trainer(_mlp(), tmp_path, checkpoint_dir=None)
    t.loss_fn = lambda m, b: m(b[0])
    with pytest.raises(TypeError, match=r"scalar tensor, got a tensor of shape \(10, 2\)"):
        t.fit(1)
    t.loss_fn = lambda m, b: m(b[0]).sum() * float("nan")
    with pytest.raises(FloatingPointError, match="loss is nan at epoch 0, step 0"):
        t.fit(1)


@pytest.mark.parametrize(
    ("kw", "err", "match"),
    [
        ({"clip_grad_norm": 0.0}, ValueError, "clip_grad_norm must be > 0"),
        # 0 and '' were taken for the default metric, silently
        ({"monitor": ""}, TypeError, "monitor must be a metric name .* got ''"),
        ({"monitor": 0}, TypeError, "monitor must be a metric name .* got 0"),
        ({"monitor": ["val"]}, TypeError, "monitor must be a metric name .* got"),
        ({"checkpoint_every": 0}, ValueError, "checkpoint_every must be >= 1"),
        ({"scheduler_interval": "batch"}, ValueError, "scheduler_interval must be one of"),
        ({"early_stopping": 3}, TypeError, "early_stopping must be an EarlyStopping"),
        ({"on_step": "log"}, TypeError, "on_step must be callable or None, got str"),
        ({"evaluate": 0.5}, TypeError, "evaluate must be callable or None, got float"),
    ],
)
def test_bad_parameters(tmp_path, kw, err, match):
    with pytest.raises(err, match=match):
        _trainer(_mlp(), tmp_path, **kw)


def test_torchrun_resume_restores_each_rank_generators(tmp_path, torchrun):
    """Ranks with different dropout streams, stopped at step 9 and resumed from step 8's file.

    The epoch losses too: each rank restored rank 0's sum of the epoch's losses, so the second
    epoch's loss of the resumed run differed from the unbroken run's."""
    r = torchrun([str(SCRIPT.with_name("_ddp_resume_run.py")), str(tmp_path)], timeout=300)
    found = re.findall(r"rank (\d) whole ([0-9a-f]{16}) resumed ([0-9a-f]{16})", r.stdout)
    assert sorted(rank for rank, _, _ in found) == ["0", "1"], r.stdout
    for _, whole, resumed in found:
        assert whole == resumed
    losses = re.findall(r"rank (\d) losses (\[[^]]*\]) resumed (\[[^]]*\])", r.stdout)
    assert sorted(rank for rank, _, _ in losses) == ["0", "1"], r.stdout
    for _, whole, resumed in losses:
        assert json.loads(whole) == json.loads(resumed)


def test_torchrun_gradient_missing_on_one_rank_averages_as_zeros(tmp_path, torchrun):
    """A parameter with a gradient on rank 0 only made the ranks all-reduce buffers of different
    lengths (gloo raised, or the ranks could hang). As DistributedDataParallel with unused
    parameters: the missing gradient counts as zeros, both ranks get the mean; a parameter with no
    gradient anywhere keeps None."""
    r = torchrun([str(SCRIPT.with_name("_ddp_unused_grad_run.py"))], timeout=120)
    found = dict(re.findall(r"rank (\d) (\{[^{}]*\})", r.stdout))
    assert sorted(found) == ["0", "1"], r.stdout
    for grads in found.values():
        assert json.loads(grads) == {
            "a": [(1 + 2) / 2 * v for v in (1.0, 2.0, 3.0)],
            "b": [(4.0 + 0) / 2, (8.0 + 0) / 2],
            "c": None,
            "d": None,
        }


def _plateau_setup():
    """A model, SGD, a fixed-order loader and a held-out loss, for ReduceLROnPlateau runs."""
    model = _mlp(seed=3)
    torch.manual_seed(4)
    x, x_val = torch.randn(40, 4), torch.randn(20, 4)
    y, y_val = (x[:, 0] > 0).long(), (x_val[:, 1] > 0).long()  # validation disagrees: plateaus
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    loader = DataLoader(TensorDataset(x, y), batch_size=10)

    def val(m):
        return F.cross_entropy(m(x_val), y_val).item()

    return model, opt, plateau, loader, val


def test_reduce_lr_on_plateau_steps_on_the_monitored_metric(tmp_path):
    """torch's ReduceLROnPlateau needs the metric in step(): the old Trainer called step()
    without it (TypeError: missing 'metrics' after the first epoch). Reference: the same
    training written as a plain torch loop, stepping the scheduler with the held-out loss."""
    model, opt, plateau, loader, val = _plateau_setup()
    ref_lrs = []
    for _ in range(6):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        ref_lrs.append(opt.param_groups[0]["lr"])
        with torch.no_grad():
            plateau.step(val(model))
    ref = [p.detach().clone() for p in model.parameters()]
    assert len(set(ref_lrs)) > 1  # the rate did drop

    def trainer(folder, on_step=None):
        model, opt, plateau, loader, val = _plateau_setup()
        return Trainer(
            model,
            opt,
            lambda m, b: F.cross_entropy(m(b[0]), b[1]),
            loader,
            scheduler=plateau,
            scheduler_interval="epoch",
            evaluate=val,
            checkpoint_dir=folder,
            progress=False,
            on_step=on_step,
        )

    t = trainer(tmp_path / "whole")
    history = t.fit(6)
    assert [e["lr"] for e in history] == ref_lrs
    assert all(torch.equal(a, b) for a, b in zip(t.model.parameters(), ref, strict=True))
    # stopped after epoch 3 and resumed: the scheduler's counters come back from the checkpoint
    broken = trainer(tmp_path / "broken")
    broken.fit(3)
    resumed = trainer(tmp_path / "broken")
    assert resumed.resume() is not None and resumed.epoch == 3
    assert [e["lr"] for e in resumed.fit(6)] == ref_lrs
    assert all(torch.equal(a, b) for a, b in zip(resumed.model.parameters(), ref, strict=True))


def test_reduce_lr_on_plateau_needs_epoch_interval(tmp_path):
    model, opt, plateau, loader, _ = _plateau_setup()
    with pytest.raises(ValueError, match="pass scheduler_interval='epoch', got 'step'"):
        Trainer(model, opt, lambda m, b: m(b[0]).sum(), loader, scheduler=plateau)


@pytest.mark.parametrize("n_samples", [0, 5])
def test_loader_without_batches_is_refused(tmp_path, n_samples):
    """torch's DataLoader has len 0 here (drop_last with fewer samples than batch_size, or an
    empty dataset): the old Trainer 'trained' the epochs, recording a loss of 0.0 each."""
    model = _mlp()
    data = TensorDataset(torch.randn(n_samples, 4), torch.zeros(n_samples, dtype=torch.long))
    loader = DataLoader(data, batch_size=10, drop_last=True)
    assert len(loader) == 0
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    t = Trainer(model, opt, lambda m, b: F.cross_entropy(m(b[0]), b[1]), loader, progress=False)
    with pytest.raises(ValueError, match="train_loader yielded no batches in epoch 1"):
        t.fit(2)
    assert (t.epoch, t.step, t.history) == (0, 0, [])


def test_history_lr_is_the_rate_of_the_epochs_last_step(tmp_path):
    """With a per-step schedule the old history held the rate set for the NEXT step (the
    digits-cnn run ended on lr 0.0, a rate no step used). Reference: a plain torch loop that
    reads ``param_groups[0]['lr']`` before each ``optimizer.step()``, keeping the last of each
    epoch; the torch scheduler is ``CosineAnnealingLR`` stepped per batch. Also resumed from a
    checkpoint written after an epoch's last step but before its end (evaluate raised)."""

    def setup():
        model = _mlp(seed=2)
        torch.manual_seed(5)
        x = torch.randn(30, 4)
        loader = DataLoader(TensorDataset(x, (x.sum(1) > 0).long()), batch_size=10)
        opt = torch.optim.SGD(model.parameters(), lr=0.4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12)
        return model, opt, sched, loader

    model, opt, sched, loader = setup()
    ref = []
    for _ in range(4):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            used = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
        ref.append(used)
    assert ref[-1] > 0.0 and opt.param_groups[0]["lr"] == 0.0  # the next rate is 0

    def trainer(folder, evaluate=None):
        model, opt, sched, loader = setup()
        return Trainer(
            model,
            opt,
            lambda m, b: F.cross_entropy(m(b[0]), b[1]),
            loader,
            scheduler=sched,
            evaluate=evaluate,
            checkpoint_dir=folder,
            checkpoint_every=3,
            progress=False,
        )

    assert [e["lr"] for e in trainer(tmp_path / "whole").fit(4)] == ref

    def fails_in_epoch_2(m, calls=[]):  # noqa: B006 (counts the calls)
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("evaluation failed")
        return 0.0

    broken = trainer(tmp_path / "broken", evaluate=fails_in_epoch_2)
    with pytest.raises(RuntimeError, match="evaluation failed"):
        broken.fit(4)
    resumed = trainer(tmp_path / "broken", evaluate=lambda m: 0.0)
    assert resumed.resume().name == "ckpt-000000006.safetensors" and resumed._batch == 3
    assert [e["lr"] for e in resumed.fit(4)] == ref


def test_metric_names_are_printed_as_they_are(tmp_path, capsys):
    """The epoch's line was printed as rich markup: a metric named ``acc[/top1]`` ended the run
    with a MarkupError after its first epoch had trained, and ``[bold]`` vanished."""
    torch.manual_seed(0)
    x = torch.randn(12, 3)
    model = torch.nn.Linear(3, 2)
    trainer = Trainer(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=4),
        evaluate=lambda m: {"acc[/top1]": 0.5, "[bold]": 0.25},
        progress=True,
    )
    history = trainer.fit(1)
    assert history[0]["acc[/top1]"] == 0.5
    out = capsys.readouterr().out
    assert "acc[/top1] 0.5" in out and "[bold] 0.25" in out


@pytest.mark.parametrize("name", ["loss", "lr", "epoch"])
def test_metric_named_as_a_history_field_is_refused(tmp_path, name):
    """evaluate returning {'loss': validation loss} replaced the epoch's mean training loss in
    history (and what early stopping on 'loss' watched) without a word."""
    torch.manual_seed(0)
    x = torch.randn(12, 3)
    y = (x[:, 0] > 0).long()
    model = torch.nn.Linear(3, 2)
    batch_losses = []

    def loss_fn(m, b):
        loss = F.cross_entropy(m(b[0]), b[1])
        batch_losses.append(loss.item())
        return loss

    def trainer(metric):
        return Trainer(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            loss_fn,
            DataLoader(TensorDataset(x, y), batch_size=4),
            evaluate=lambda m: {metric: 123.0},
            progress=False,
        )

    with pytest.raises(ValueError, match=rf"metrics named \['{name}'\].*e\.g\. 'val_loss'"):
        trainer(name).fit(1)
    batch_losses.clear()
    history = trainer(f"val_{name}").fit(1)
    assert history[0]["loss"] == sum(batch_losses) / len(batch_losses)
    assert history[0][f"val_{name}"] == 123.0


@pytest.mark.parametrize(
    ("saved", "given"),
    [
        ((torch.optim.SGD, {"momentum": 0.9}), (torch.optim.Adam, {})),
        ((torch.optim.Adam, {}), (torch.optim.SGD, {"momentum": 0.9})),
        ((torch.optim.Adam, {}), (torch.optim.RMSprop, {})),
    ],
    ids=["sgd-into-adam", "adam-into-sgd", "adam-into-rmsprop"],
)
def test_checkpoint_of_another_optimizer_is_refused(tmp_path, saved, given):
    """A checkpoint holds its optimizer's state_dict, which only that torch.optim class can
    continue from. Resuming an Adam run with SGD loaded and then failed at the first step
    (KeyError: 'momentum'); with RMSprop it trained on, with Adam's hyper-parameters and
    moments in RMSprop's groups. Both are refused at load now, and the Trainer is untouched."""

    def trainer(opt_class, options):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        x = torch.randn(12, 3)
        return Trainer(
            model,
            opt_class(model.parameters(), lr=0.1, **options),
            lambda m, b: F.cross_entropy(m(b[0]), b[1]),
            DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=4),
            checkpoint_dir=tmp_path / "ckpt",
            progress=False,
        )

    trainer(*saved).fit(1)
    t = trainer(*given)
    before = copy.deepcopy(t.optimizer.state_dict())
    match = f"with the optimizer {saved[0].__name__}, this Trainer has {given[0].__name__}:"
    with pytest.raises(ValueError, match=match):
        t.resume()
    assert t.epoch == 0 and t.optimizer.state_dict() == before
    trainer(*saved).resume()  # the optimizer it was written with resumes it


@pytest.mark.parametrize("kill_at", [8, 11], ids=["epoch-start", "mid-epoch"])
def test_persistent_workers_resume_gives_the_plain_loops_weights(tmp_path, kill_at):
    """A DataLoader with persistent_workers=True creates its iterator (drawing the workers'
    base seed from the generator) only in the first epoch; later epochs only reset it, and the
    shuffling sampler draws its seed from the epoch's starting state. A run resumed in epoch 2
    created a fresh iterator there, so the base-seed draw shifted the sampler's seed: another
    batch order and other weights than the uninterrupted run's. Reference: a plain torch loop
    over the same loader (6 batches an epoch, 3 epochs)."""

    def build():
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(4, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 2)
        )
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = torch.randn(24, 4)
        data = TensorDataset(x, (x[:, 0] > 0).long())
        loader = DataLoader(
            data, batch_size=4, shuffle=True, num_workers=1, persistent_workers=True
        )
        return model, opt, loader

    model, opt, loader = build()
    torch.manual_seed(7)
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    expected = [p.detach().clone() for p in model.parameters()]

    # a new process: the global generator is anywhere when it resumes
    resumed, newest = _kill_then_resume(build, tmp_path, kill_at, seed=7, resume_seed=99)
    assert newest.name == f"ckpt-{8 if kill_at == 11 else 6:09d}.safetensors"
    for a, b in zip(resumed.model.parameters(), expected, strict=True):
        assert torch.equal(a, b)


def _kill_then_resume(build, tmp_path, kill_at, *, seed=None, resume_seed=None):
    """Three epochs of a Trainer over ``build()``'s (model, optimizer, loader), checkpointing
    every 4 steps, killed after step ``kill_at``; then a fresh Trainer resumes and finishes them.
    ``seed`` seeds torch's global generator before each Trainer is built, ``resume_seed`` before
    the resume. Returns the resumed Trainer and the checkpoint it resumed from."""

    class Killed(Exception):
        pass

    def kill(trainer):
        if trainer.step == kill_at:
            raise Killed

    def trainer():
        model, opt, loader = build()
        if seed is not None:
            torch.manual_seed(seed)
        return Trainer(
            model,
            opt,
            lambda m, b: F.cross_entropy(m(b[0]), b[1]),
            loader,
            checkpoint_dir=tmp_path / "ckpt",
            checkpoint_every=4,
            progress=False,
            on_step=kill,
        )

    with pytest.raises(Killed):
        trainer().fit(3)
    resumed = trainer()
    resumed.on_step = None
    if resume_seed is not None:
        torch.manual_seed(resume_seed)
    newest = resumed.resume()
    resumed.fit(3)
    return resumed, newest


class _ShuffledBatches(torch.utils.data.Sampler):
    """A bucketing-style batch sampler: a permutation cut into batches, drawn either from
    ``seed + epoch`` (``set_epoch``, the ``DistributedSampler`` convention) or from its own
    ``generator``."""

    def __init__(self, n, batch_size, seed=None, generator=None):
        self.n, self.batch_size, self.seed, self.generator = n, batch_size, seed, generator
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        g = self.generator
        if self.seed is not None:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.n, generator=g).tolist()
        for i in range(0, self.n, self.batch_size):
            yield order[i : i + self.batch_size]

    def __len__(self):
        return -(-self.n // self.batch_size)


@pytest.mark.parametrize("driven_by", ["set_epoch", "generator"])
def test_custom_batch_sampler_is_stepped_and_checkpointed_as_a_sampler(tmp_path, driven_by):
    """A DataLoader(batch_sampler=...) whose batch sampler shuffles by set_epoch was never told
    the epoch (the Trainer called set_epoch only on loader.sampler and batch_sampler.sampler),
    so every epoch repeated epoch 0's batches; one with its own generator was left out of the
    checkpoint, so a resumed run drew other batches. Reference: a plain torch loop calling
    set_epoch before each epoch; the Trainer is killed at step 10 (epoch 2) and resumed."""

    def build():
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        x = torch.randn(24, 4)
        data = TensorDataset(x, (x[:, 0] > 0).long())
        if driven_by == "set_epoch":
            batches = _ShuffledBatches(24, 4, seed=3)
        else:
            batches = _ShuffledBatches(24, 4, generator=torch.Generator().manual_seed(3))
        return model, opt, DataLoader(data, batch_sampler=batches)

    model, opt, loader = build()
    for epoch in range(3):
        loader.batch_sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    expected = [p.detach().clone() for p in model.parameters()]

    resumed, newest = _kill_then_resume(build, tmp_path, 10)
    assert newest.name == "ckpt-000000008.safetensors"
    for a, b in zip(resumed.model.parameters(), expected, strict=True):
        assert torch.equal(a, b)


def _plain_epoch_losses(model, opt, loader, epochs, scheduler=None):
    """A plain torch loop's per-epoch training loss: sum(loss_b * n_b) / N over the batches."""
    out = []
    for _ in range(epochs):
        total, n = 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(xb)
            n += len(xb)
        out.append(total / n)
    return out


@pytest.mark.parametrize("batch_size", [10, 7])
def test_epoch_loss_weights_each_batch_by_its_size(tmp_path, batch_size):
    """23 samples in batches of 10 (10, 10, 3) or 7 (7, 7, 7, 2): the epoch's loss was the
    mean of the batch means, so the short last batch counted as much as a full one (off by up
    to 0.074 here, 0.546 for 0.621, from the loss over the epoch's samples). It is now
    sum(loss_b n_b) / N, as a plain torch loop, Keras' History and Lightning's on_epoch logging
    weight it, and it is the number early stopping and ReduceLROnPlateau watch under
    monitor='loss'; a run resumed in the middle of an epoch reports the same."""

    def setup():
        model = _mlp()
        torch.manual_seed(1)
        x = torch.randn(23, 4, dtype=torch.float32)
        y = (x.sum(1) > 0).long()
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        loader = DataLoader(
            TensorDataset(x, y),
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(3),
        )
        return model, opt, loader

    model, opt, loader = setup()
    expected = _plain_epoch_losses(model, opt, loader, 4)

    model, opt, loader = setup()
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=100)
    es = EarlyStopping(patience=100)
    t = Trainer(
        model,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        loader,
        scheduler=plateau,
        scheduler_interval="epoch",
        early_stopping=es,
        checkpoint_dir=tmp_path / "ckpt",
        checkpoint_every=1,
        keep_last=100,
        progress=False,
    )
    history = t.fit(4)
    losses = [e["loss"] for e in history]
    assert losses == pytest.approx(expected, rel=1e-12, abs=0)
    assert es.best_ == min(expected) and plateau.best == min(expected)

    # resumed after the second batch of the third epoch: the epoch's loss is the same
    per_epoch = len(loader)
    model, opt, loader = setup()
    resumed = Trainer(
        model,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        loader,
        scheduler=torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=100),
        scheduler_interval="epoch",
        early_stopping=EarlyStopping(patience=100),
        progress=False,
    )
    resumed.load_checkpoint(tmp_path / "ckpt" / f"ckpt-{2 * per_epoch + 2:09d}.safetensors")
    assert [e["loss"] for e in resumed.fit(4)] == losses


def test_older_mid_epoch_checkpoint_without_sample_count_resumes_to_the_weighted_loss(tmp_path):
    """A checkpoint written before the epoch loss was weighted holds the plain sum of its batch
    losses and no sample count: its batches, all before the epoch's short last one, were full
    ones of the loader's batch_size, so the resumed epoch reports sum(loss_b n_b) / N."""
    from mlcanon.train._checkpoint import load_state_file, save_state_file

    def setup():
        model = _mlp()
        torch.manual_seed(1)
        x = torch.randn(23, 4)
        loader = DataLoader(TensorDataset(x, (x.sum(1) > 0).long()), batch_size=10)
        return model, torch.optim.SGD(model.parameters(), lr=0.5), loader

    model, opt, loader = setup()
    expected = _plain_epoch_losses(model, opt, loader, 2)
    model, opt, loader = setup()
    kw = {"progress": False, "checkpoint_dir": tmp_path, "checkpoint_every": 1, "keep_last": 9}
    t = Trainer(model, opt, lambda m, b: F.cross_entropy(m(b[0]), b[1]), loader, **kw)
    t.fit(2)
    path = tmp_path / "ckpt-000000005.safetensors"  # after batch 2 of epoch 2
    _, state = load_state_file(path)
    assert state.pop("loss_samples") == 20
    state["loss_sum"] /= 10  # the old format: the two full batches' losses, unweighted
    save_state_file(path, state)
    model, opt, loader = setup()
    resumed = Trainer(model, opt, lambda m, b: F.cross_entropy(m(b[0]), b[1]), loader, **kw)
    resumed.load_checkpoint(path)
    assert [e["loss"] for e in resumed.fit(2)] == pytest.approx(expected, rel=1e-12, abs=0)


class _PoisonedAt(torch.utils.data.Sampler):
    """Indices 0..n-1 in order; in epoch ``bad`` (``set_epoch``) the extra sample n as well,
    alone in the last batch."""

    def __init__(self, n, bad):
        self.n, self.bad, self.epoch = n, bad, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        return iter(range(self.n + (self.epoch == self.bad)))

    def __len__(self):
        return self.n + (self.epoch == self.bad)


def _poisoned_setup(bad_epoch):
    """Least squares without bias on 20 samples (x ~ 1e-3, y = x0 - x1) by SGD with lr 1e3; in
    epoch ``bad_epoch`` the sample x = (1e18, 0) comes last: its loss, 8e35, is finite in float32,
    but the step it gives overflows w0 to -inf, so the validation MSE, on a set holding x0 = 0,
    is NaN at the end of that epoch."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 2, generator=g) * 1e-3
    x = torch.cat([x, torch.tensor([[1e18, 0.0]])])
    y = (x[:, :1] - x[:, 1:]).clone()
    y[-1] = 0.0
    x_val = torch.tensor([[0.0, 1e-3], [2e-3, -1e-3], [-1e-3, 0.0]])
    y_val = x_val[:, :1] - x_val[:, 1:]
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.9, -0.8]]))
    opt = torch.optim.SGD(model.parameters(), lr=1e3)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, sampler=_PoisonedAt(20, bad_epoch))
    return model, opt, loader, lambda m: {"val_loss": F.mse_loss(m(x_val), y_val).item()}


def test_non_finite_monitored_metric_stops_and_keeps_the_last_finite_epochs_checkpoint(tmp_path):
    """The validation loss turns NaN at the end of epoch 3 (0-based 2): early stopping raised
    ValueError('value is NaN'), a traceback after the epoch's training. As Lightning's
    EarlyStopping(check_finite=True) the run now stops after epoch 3 with a warning naming the
    metric, its value and the best epoch; that epoch writes no checkpoint, so the newest one
    holds the weights of epoch 2, those of a plain torch loop run for 2 epochs."""
    model, opt, loader, evaluate = _poisoned_setup(bad_epoch=2)
    plain_val = []
    for epoch in range(2):
        loader.sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            F.mse_loss(model(xb), yb).backward()
            opt.step()
        with torch.no_grad():
            plain_val.append(evaluate(model)["val_loss"])
    plain = copy.deepcopy(model.state_dict())

    model, opt, loader, evaluate = _poisoned_setup(bad_epoch=2)
    es = EarlyStopping(patience=5)
    t = Trainer(
        model,
        opt,
        lambda m, b: F.mse_loss(m(b[0]), b[1]),
        loader,
        evaluate=evaluate,
        early_stopping=es,
        monitor="val_loss",
        checkpoint_dir=tmp_path,
        keep_last=1,
        progress=False,
    )
    best = min(plain_val)
    message = (
        f"early stopping after epoch 3: the monitored metric val_loss=nan is not finite; its "
        f"best value was {best} at epoch {plain_val.index(best) + 1}; no checkpoint was "
        f"written for this epoch"
    )
    with pytest.warns(RuntimeWarning, match=re.escape(message)):
        history = t.fit(10)
    assert [e["epoch"] for e in history] == [1, 2, 3] and t.epoch == 3
    assert [e["val_loss"] for e in history[:2]] == plain_val and math.isnan(history[2]["val_loss"])
    assert t.stop_reason == message.removesuffix("; no checkpoint was written for this epoch")
    assert es.best_ == best and es.best_epoch_ == plain_val.index(best)
    assert torch.isinf(t.model.weight[0, 0])  # the model keeps its last weights, as Lightning
    (newest,) = t.checkpoints()
    assert newest.name == "ckpt-000000008.safetensors"  # the end of epoch 2 (4 steps each)
    model, opt, loader, _ = _poisoned_setup(bad_epoch=2)
    fresh = Trainer(model, opt, t.loss_fn, loader, early_stopping=EarlyStopping(), progress=False)
    fresh.load_checkpoint(newest)
    assert fresh.epoch == 2 and fresh.early_stopping.best_ == best
    for k, v in model.state_dict().items():
        assert torch.equal(v, plain[k]), k


@pytest.mark.parametrize("nan", [False, True], ids=["stalls", "nan"])
def test_torchrun_ranks_with_different_metrics_stop_together(tmp_path, nan, torchrun):
    """Each rank's evaluate gave its own value: the ranks' early stopping decided apart (rank 1
    alone stops after epoch 3, rank 0 alone trains all 6), so one rank left fit while the other
    waited in the next all-reduce (a hang; here a gloo timeout). The metrics are now averaged
    over the ranks, as Lightning's sync_dist=True: both ranks see the means and stop together
    where a plain count over them does (after epoch 5). With rank 1's NaN at epoch 3 the mean
    is NaN there and both stop after epoch 3."""
    r = torchrun(
        [str(SCRIPT.with_name("_ddp_metric_run.py"))] + (["--nan"] if nan else []), timeout=240
    )
    found = dict(re.findall(r"rank (\d) (\{[^{}]*\})", r.stdout))
    assert sorted(found) == ["0", "1"], r.stdout
    means = [(a + b) / 2 for a, b in zip([1.0, 0.9, 0.6, 0.5, 0.4, 0.2], [1.0] * 6, strict=True)]
    if nan:
        expected = {"val": [*means[:2], None], "epochs": 3}
    else:  # a plain count: improvement needs v < best - 0.15
        best, bad, stop = math.inf, 0, None
        for e, v in enumerate(means):
            best, bad = (v, 0) if v < best - 0.15 else (best, bad + 1)
            if bad >= 2:
                stop = e + 1
                break
        assert stop == 5
        expected = {"val": means[:stop], "epochs": stop}
    for out in found.values():
        got = json.loads(out.replace("NaN", "null"))
        assert got == expected
