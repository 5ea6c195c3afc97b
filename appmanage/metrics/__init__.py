"""Prometheus metrics (`/metrics`) and the orchestrators' probes (`/livez`, `/readyz`)."""
