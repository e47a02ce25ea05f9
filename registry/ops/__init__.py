"""Operations: health and readiness probes, the Prometheus scrape, the scheduler's heartbeat.

It sits above the features whose state it reports (callbacks, the proxy pool, the call log) and
below the scheduler, which writes the heartbeat (docs/operations.md).
"""
