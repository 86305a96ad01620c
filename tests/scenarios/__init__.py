"""Backend-independent search scenarios, run against the embedded engine and an OpenSearch-compatible
server (osmem), plus the helpers those tests share."""
