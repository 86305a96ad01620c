"""Search core: the backend interface, the engine-independent search logic (modes, fusion, facets,
highlights, similar cases) and the embedded engine (tantivy + numpy)."""
