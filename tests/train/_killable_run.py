"""A small training run for the kill-and-resume test: ``python _killable_run.py DIR [options]``.

Dropout and a shuffled loader draw from the global generators, so a resume that restored them
wrongly would change the final weights.
"""

import argparse
import os
import signal

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from mlcanon.train import Trainer, save_weights, warmup_cosine


def build(out):
    torch.manual_seed(0)
    x = torch.randn(100, 6)
    y = (x[:, 0] + x[:, 1] ** 2 > 1).long()
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(32, 2)
    )
    opt = torch.optim.AdamW(model.parameters(), lr=3e-2, weight_decay=1e-2)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)  # 13 batches
    return Trainer(
        model,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        loader,
        scheduler=warmup_cosine(opt, 5, 39),
        clip_grad_norm=1.0,
        checkpoint_dir=os.path.join(out, "checkpoints"),
        checkpoint_every=4,
        progress=False,
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--kill-at", type=int, default=None)
    p.add_argument("--resume", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    trainer = build(args.out)
    if args.resume:
        path = trainer.resume()
        print(f"resumed from {os.path.basename(path)} at step {trainer.step}", flush=True)
    if args.kill_at is not None:

        def die(t):
            if t.step == args.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        trainer.on_step = die
    trainer.fit(3)
    save_weights(trainer.model, os.path.join(args.out, "final.safetensors"))
