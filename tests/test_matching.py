"""engine/matching.py: the features of the "counts as a match" test, pinned by hand-computed
examples, and the corpus z-score equal to the one computed by scanning the corpus."""
from __future__ import annotations

import numpy as np
import pytest

from engine.matching import FEATURES, CorpusMoments, MatchTest, features


def test_the_moment_z_score_equals_the_scanned_one():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(200, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[3] + 0.1 * rng.normal(size=16)
    scanned = vectors @ query
    z = CorpusMoments.of(vectors).z(query, scanned)
    expected = (scanned - scanned.mean()) / scanned.std(ddof=1)
    assert np.allclose(z, expected)


def test_moments_need_two_vectors():
    with pytest.raises(ValueError):
        CorpusMoments.of(np.ones((1, 4)))


def test_features_by_hand():
    # z in window order (not sorted): the widest gap among the first 10 is 4.0 -> 2.5 (1.5), so
    # the two cases above it carry cluster_gap 1.5 and the rest 0.
    z = np.array([2.5, 4.0, 5.0, 2.0, 1.9])
    rows = features(z, np.array([0.5, 0.0, 1.0, 0.0, 0.25]), True)
    assert rows.shape == (5, len(FEATURES))
    assert list(rows[:, 0]) == list(z)
    assert list(rows[:, 1]) == [0.0, 1.5, 1.5, 0.0, 0.0]
    assert list(rows[:, 2]) == [2.5, 1.0, 0.0, 3.0, 3.1]
    assert list(rows[:, 3]) == [0.5, 0.0, 1.0, 0.0, 0.25]
    assert list(rows[:, 4]) == [1.0] * 5


def test_features_of_an_empty_or_single_window():
    assert features(np.array([]), np.array([]), False).shape == (0, len(FEATURES))
    one = features(np.array([3.0]), np.array([1.0]), False)
    assert list(one[0]) == [3.0, 0.0, 0.0, 1.0, 0.0]


def test_the_logistic_test_by_hand():
    test = MatchTest.from_mapping({"intercept": -1.0, "z": 0.5, "cluster_gap": 1.0, "z_top_gap": -1.0,
                                   "kw_frac": 2.0, "has_strict": -1.0, "threshold": 0.5})
    rows = np.array([[2.0, 0.0, 0.0, 0.0, 0.0],     # -1 + 1 = 0          -> 0.5 (passes: ≥ threshold)
                     [2.0, 0.0, 1.0, 0.0, 0.0],     # -1 + 1 - 1 = -1     -> 0.269
                     [0.0, 0.0, 0.0, 1.0, 0.0],     # -1 + 2 = 1          -> 0.731
                     [0.0, 0.0, 0.0, 1.0, 1.0]])    # -1 + 2 - 1 = 0      -> 0.5
    assert np.allclose(test.probability(rows), [0.5, 1 / (1 + np.e), 1 / (1 + np.exp(-1)), 0.5])
    assert list(test.passes(rows)) == [True, False, True, True]
