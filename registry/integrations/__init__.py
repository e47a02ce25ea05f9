"""Integration clients: marketplace back ends that call `/api/v1` with a scoped `rk_` key."""
