"""What one benchmark run does: scale, durations, concurrency, where it writes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Fixed secrets: the benchmark's databases are throwaway, and the server it
# starts and the load generator must agree on them.
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DATA_KEY = "bench-data-key-0123456789abcdefghijklmnopqrstuvwxyz"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105
ACCOUNT_SID = "AC" + "b" * 32


MEASURES = ("routing", "allocation", "pool")


@dataclass(frozen=True)
class PoolShape:
    """The synthetic marketplace the pool-efficiency measure allocates."""

    big_merchants: int = 5
    big_shoppers: tuple[int, int] = (300, 600)
    small_merchants: int = 200
    small_shoppers: tuple[int, int] = (1, 20)
    # Share of merchant-shopper slots filled by a shopper who already talks
    # to another merchant (each shopper has at most `max_merchants`).
    repeat_share: float = 0.15
    max_merchants: int = 3
    numbers: int = 1000
    cap: int = 200
    seed: int = 20240611


@dataclass(frozen=True)
class Settings:
    bindings: int = 1_000_000
    shoppers_per_merchant: int = 1000
    filler_proxies: int = 5000
    spare_proxies: int = 1000
    # Bindings made through `allocate()` with real numbers: the routing load's callers.
    real_bindings: int = 400

    gunicorn_workers: int = 2
    concurrency: int = 8
    client_processes: int = 2
    warmup: float = 1.0
    duration: float = 6.0
    max_requests: int = 60_000  # per measurement, across all client threads

    alloc_workers: int = 8
    alloc_per_worker: int = 1000

    pool: PoolShape = field(default_factory=PoolShape)
    pool_workers: int = 8

    admin_url: str = field(default_factory=lambda: os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL))
    # BENCH_DB_NAME lets several people share one server without dropping each other's database.
    db_name: str = field(default_factory=lambda: os.environ.get("BENCH_DB_NAME", "registry_bench"))
    # Which measures run (setup always does): any of MEASURES.
    only: tuple[str, ...] = MEASURES
    keep: bool = False
    output: Path = ROOT / "test-artifacts" / "bench.txt"
    log_dir: Path = ROOT / "test-artifacts"

    @property
    def pool_db_name(self) -> str:
        return f"{self.db_name}_pool"

    def quick(self) -> Settings:
        return replace(self, bindings=20_000, duration=3.0, alloc_per_worker=250)

    @classmethod
    def smoke(cls, admin_url: str, workdir: Path) -> Settings:
        """Every code path at a tiny scale, for the test suite."""
        return cls(
            bindings=2000, filler_proxies=1000, spare_proxies=100, real_bindings=40,
            concurrency=4, client_processes=1, warmup=0.3, duration=1.0, max_requests=5000,
            alloc_workers=2, alloc_per_worker=25,
            pool=PoolShape(big_merchants=2, big_shoppers=(30, 60), small_merchants=20,
                           small_shoppers=(1, 5), numbers=100),
            pool_workers=2, admin_url=admin_url, db_name="registry_bench_smoke",
            output=workdir / "bench.txt", log_dir=workdir,
        )
