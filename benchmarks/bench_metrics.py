"""Ranking metrics on 10^6 samples: ours vs scikit-learn, with and without tied scores.

Both sides pay for their input validation. Ours sorts the scores once (an unstable sort is
enough: counts at a tie group do not depend on the order inside it) and recognises a binary
target with linear passes; scikit-learn sorts ``y_true`` several times to find its classes and
then runs a stable sort of the scores.
"""

from __future__ import annotations

import numpy as np

from benchmarks._harness import compare
from mlcanon import metrics as M

N_SAMPLES = 10**6


def main() -> None:
    from sklearn import metrics as skm

    rng = np.random.default_rng(0)
    y = (rng.random(N_SAMPLES) < 0.3).astype(np.int64)
    score = rng.normal(size=N_SAMPLES) + y  # continuous: ~10^6 distinct values
    rounded = np.round(1.0 / (1.0 + np.exp(-score)), 3)  # probabilities to 3 decimals: heavy ties
    for label, s in [("distinct scores", score), ("ties, 3 decimals", rounded)]:
        for name, ours, ref in [
            ("roc_auc_score", M.roc_auc_score, skm.roc_auc_score),
            ("average_precision_score", M.average_precision_score, skm.average_precision_score),
        ]:
            np.testing.assert_allclose(ours(y, s), ref(y, s), rtol=1e-12)
            compare(
                f"{name}, 1e6 samples, {label}",
                lambda f=ours, s=s: f(y, s),
                lambda f=ref, s=s: f(y, s),
                ref_name="sklearn",
                target=1.0,
            )


if __name__ == "__main__":
    main()
