"""Routers, one per resource; `ingest_api.app` registers them."""
