"""The search service: FastAPI JSON API and the Japanese web page (server-rendered, works without
JavaScript). `service.app.create_app()` builds the app; `council-search serve` runs it."""
