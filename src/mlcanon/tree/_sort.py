"""In-place sort of (value, sample id) pairs for the split search (numba)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _swap(v, s, i, j):
    v[i], v[j] = v[j], v[i]
    s[i], s[j] = s[j], s[i]


@njit(cache=True, nogil=True)
def sort_pairs(v, s, n, stack):
    """Sort ``v[:n]`` in place, carrying ``s`` along (median-of-3 quicksort + insertion sort).

    Written out rather than ``np.argsort`` because the split search sorts once per node and
    feature: no allocation (``stack``, int64[128], is the caller's scratch; the smaller side
    goes first, so at most log2(n) pairs are pending), and small nodes (most of them) finish in
    the insertion sort.
    """
    top = 0
    lo, hi = 0, n - 1
    while True:
        while hi - lo > 16:
            mid = (lo + hi) >> 1
            if v[mid] < v[lo]:
                _swap(v, s, mid, lo)
            if v[hi] < v[lo]:
                _swap(v, s, hi, lo)
            if v[hi] < v[mid]:
                _swap(v, s, hi, mid)
            pivot = v[mid]
            i, j = lo, hi
            while i <= j:
                while v[i] < pivot:
                    i += 1
                while v[j] > pivot:
                    j -= 1
                if i <= j:
                    _swap(v, s, i, j)
                    i += 1
                    j -= 1
            if j - lo < hi - i:
                stack[top], stack[top + 1] = i, hi
                hi = j
            else:
                stack[top], stack[top + 1] = lo, j
                lo = i
            top += 2
        for i in range(lo + 1, hi + 1):
            x, y = v[i], s[i]
            j = i - 1
            while j >= lo and v[j] > x:
                v[j + 1], s[j + 1] = v[j], s[j]
                j -= 1
            v[j + 1], s[j + 1] = x, y
        if top == 0:
            return
        top -= 2
        lo, hi = stack[top], stack[top + 1]
