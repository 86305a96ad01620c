"""The embedded engine: tantivy for text + facets, numpy for vectors, plain files for records.
No server; an index is a directory under `<data_dir>/index/builds/`, selected by `CURRENT`."""
