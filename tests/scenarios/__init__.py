"""Backend-independent search scenarios, run against the embedded engine and a real OpenSearch node,
plus the helpers those tests share."""
