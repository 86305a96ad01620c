"""Search-quality evaluation: a judged query set (`eval-data/queries.yaml`), standard IR metrics, and a
runner that scores the real `engine.searcher.Searcher` per mode and per query kind."""
