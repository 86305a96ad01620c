"""The MeCab taggers are a fixed number per process, whatever the threads do (issue 14, finding 1:
one tagger per thread mapped the dictionary 183 times and grew RSS from 484 MB to 7.4 GB)."""
from __future__ import annotations

import threading

from analyzers import taggers
from analyzers.sentence import content_chunks
from analyzers.streams import clear_caches, index_tokens, term_streams

THREADS = 24


def _burst(work) -> int:
    """Run `work` on THREADS live threads at once and count dictionary mappings while all of them
    are still alive (a per-thread tagger would be held by each of them at that moment)."""
    done = threading.Barrier(THREADS + 1)
    release = threading.Event()

    def run(i: int) -> None:
        work(i)
        done.wait()
        release.wait()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    done.wait()
    count = taggers.dictionary_mappings()
    release.set()
    for t in threads:
        t.join()
    return count


def _analyse(i: int) -> None:
    # distinct text per thread so the sentence cache cannot answer for the tagger
    index_tokens(f"第{i}回ガバメントクラウドへの移行に係る業務委託について{i}。")
    term_streams(f"再委託先{i}")
    content_chunks(f"公園に防犯カメラを{i}台増設する案件")


def test_dictionary_mapped_a_bounded_number_of_times_under_many_threads():
    clear_caches()
    _analyse(0)
    baseline = taggers.dictionary_mappings()
    assert baseline > 0
    during = _burst(_analyse)
    # at most the pools' sizes in taggers, each mapping the 4 dictionary files
    bound = 4 * (taggers.WAKATI.size + taggers.FEATURES.size)
    assert during <= bound, (during, bound)
    assert taggers.WAKATI.created <= taggers.WAKATI.size
    assert taggers.FEATURES.created <= taggers.FEATURES.size
    # constant: a burst maps nothing new (the pools are complete from the first parse)
    assert during == baseline
    assert _burst(_analyse) == during


def test_borrowed_taggers_give_the_same_analysis_as_one_thread():
    expected = [index_tokens(f"{i}件の個人番号利用事務の委託") for i in range(THREADS)]
    clear_caches()
    got: dict[int, object] = {}
    _burst(lambda i: got.__setitem__(i, index_tokens(f"{i}件の個人番号利用事務の委託")))
    assert [got[i] for i in range(THREADS)] == expected
    assert content_chunks("公園に防犯カメラを増設する案件") == ["公園", "防犯カメラ", "増設"]
