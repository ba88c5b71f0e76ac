import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _one_thread_per_worker():
    """One BLAS/OpenMP thread: with pytest-xdist workers on few cores, the reference's OpenMP
    threads would otherwise spin against each other (results do not depend on thread counts)."""
    with threadpool_limits(1):
        yield
