import os

import matplotlib
from hypothesis import settings
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")

# Property tests must not fail on a busy 2-core machine because one example was slow.
settings.register_profile("mlcanon", deadline=None, max_examples=60)
settings.load_profile("mlcanon")

# The suite runs on two pytest-xdist workers over two cores: a multi-threaded BLAS in each
# worker oversubscribes the machine and spin-waits (seen to slow SciPy 10-60x on small problems).
threadpool_limits(1, user_api="blas")

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Same reason for torch's intra-op threads: two workers x two threads on two cores.
    import torch

    torch.set_num_threads(1)
