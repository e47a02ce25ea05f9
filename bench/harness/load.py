"""A closed-loop HTTP load generator: client processes x threads, one request each at a time.

Every request is prepared (and signed as Twilio signs) before the clock
starts, so the clients spend their CPU on sockets only; gunicorn's sync
workers close each connection, so each request is a fresh connection,
the same for every server measured. Requests completing in the first
`warmup` seconds are not counted; the next `duration` seconds are. The
number of requests is bounded by `max_requests`.
"""

from __future__ import annotations

import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from bench.harness.processes import context as process_context
from bench.harness.processes import worker_processes
from bench.harness.timing import percentile

CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class LoadSpec:
    port: int
    path: str
    pairs: list[tuple[str, str]]  # (From, To) drawn at random for each request
    expect: bytes  # a correct answer is a 200 whose body contains this
    auth_token: str
    account_sid: str
    concurrency: int = 8
    processes: int = 2
    warmup: float = 1.0
    duration: float = 6.0
    max_requests: int = 60_000
    # Other requests than Twilio's webhook: `prepare(spec, client, count, run_id)` returns each
    # client's raw HTTP requests (a module-level function, so client processes can be given it),
    # `statuses` the status codes of a correct answer, `context` whatever `prepare` needs.
    prepare: Callable[[LoadSpec, int, int, str], list[bytes]] | None = None
    statuses: tuple[bytes, ...] = (b"200",)
    context: dict = field(default_factory=dict, hash=False)
    # Several servers side by side (bench multihost): the client threads take these ports in
    # turn, each thread one server (as a round-robin load balancer would share connections).
    ports: tuple[int, ...] = ()


@dataclass
class LoadResult:
    completed: int = 0  # correct answers in the measured window
    errors: int = 0  # wrong answers and failed requests, in the whole run
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    duration: float = 0.0
    exhausted: bool = False  # a client ran out of prepared requests before the end

    @property
    def rps(self) -> float:
        return self.completed / self.duration if self.duration else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def _prepare(spec: LoadSpec, worker: int, count: int, run_id: str) -> list[bytes]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(spec.auth_token)
    public_url = f"http://127.0.0.1:{spec.port}{spec.path}"
    rng = random.Random(f"{run_id}-{worker}")
    requests = []
    for n in range(count):
        caller, proxy = rng.choice(spec.pairs)
        call_sid = f"CA{run_id}{worker:04x}{n:020x}"
        params = {"AccountSid": spec.account_sid, "ApiVersion": "2010-04-01", "CallSid": call_sid,
                  "CallStatus": "ringing", "Direction": "inbound", "From": caller, "To": proxy,
                  "Caller": caller, "Called": proxy}
        body = urlencode(params).encode()
        signature = validator.compute_signature(public_url, params)
        head = (f"POST {spec.path} HTTP/1.1\r\nHost: 127.0.0.1:{spec.port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n")
        requests.append(head.encode() + body)
    return requests


def _request(port: int, payload: bytes, expect: bytes, statuses: tuple[bytes, ...] = (b"200",)) -> str | None:
    """None for a correct answer, else what was wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT) as sock:
            sock.sendall(payload)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    answer = b"".join(chunks)
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    if not any(status.startswith(f"HTTP/1.{minor} {code.decode()}") for minor in (0, 1) for code in statuses):
        return status or "empty answer"
    if expect not in answer.partition(b"\r\n\r\n")[2]:
        return f"200 without {expect.decode()!r}"
    return None


def _client_process(spec: LoadSpec, worker: int, threads: int, run_id: str, ready, start_at, results):
    """One client process: prepares its requests, then runs `threads` closed loops."""
    per_thread = max(1, spec.max_requests // (spec.processes * threads))
    prepare = spec.prepare or _prepare
    ports = spec.ports or (spec.port,)
    specs = [replace(spec, port=ports[(worker * threads + t) % len(ports)]) for t in range(threads)]
    batches = [(s.port, prepare(s, worker * threads + t, per_thread, run_id)) for t, s in enumerate(specs)]
    ready.put(worker)
    while start_at.value == 0.0:
        time.sleep(0.005)
    begin = start_at.value
    window_start, window_end = begin + spec.warmup, begin + spec.warmup + spec.duration
    while time.monotonic() < begin:
        time.sleep(0.001)
    latencies: list[float] = []
    errors: list[str] = []
    exhausted = []
    lock = threading.Lock()

    def loop(port: int, batch: list[bytes]) -> None:
        mine, wrong = [], []
        for payload in batch:
            sent = time.monotonic()
            if sent >= window_end:
                break
            problem = _request(port, payload, spec.expect, spec.statuses)
            done = time.monotonic()
            if problem is not None:
                wrong.append(problem)
            elif window_start <= done <= window_end:
                mine.append((done - sent) * 1000)
        else:
            exhausted.append(True)
        with lock:
            latencies.extend(mine)
            errors.extend(wrong)

    pool = [threading.Thread(target=loop, args=batch) for batch in batches]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put({"latencies": latencies, "errors": len(errors), "samples": sorted(set(errors))[:5],
                 "exhausted": bool(exhausted)})


def run(spec: LoadSpec, meter=None) -> LoadResult:
    """Drive the server at `spec.port` from `spec.processes` processes; bounded in time.

    `meter` (a `bench.harness.machine.Meter`) is started and stopped around the measured window.
    """
    ctx = process_context()
    ready, results = ctx.Queue(), ctx.Queue()
    start_at = ctx.Value("d", 0.0)
    run_id = secrets.token_hex(4)
    threads = max(1, spec.concurrency // spec.processes)
    arglists = [(spec, w, threads, run_id, ready, start_at, results) for w in range(spec.processes)]
    outcome = LoadResult(duration=spec.duration)
    with worker_processes(ctx, _client_process, arglists, join_timeout=10) as workers:
        for _ in workers:
            ready.get(timeout=120)
        start_at.value = begin = time.monotonic() + 0.2
        if meter is not None:
            time.sleep(max(0.0, begin + spec.warmup - time.monotonic()))
            meter.start()
            time.sleep(max(0.0, begin + spec.warmup + spec.duration - time.monotonic()))
            meter.stop()
        budget = spec.warmup + spec.duration + CONNECT_TIMEOUT * 2 + 30
        for _ in workers:
            part = results.get(timeout=budget)
            outcome.latencies_ms += part["latencies"]
            outcome.errors += part["errors"]
            outcome.error_samples = sorted(set(outcome.error_samples) | set(part["samples"]))[:5]
            outcome.exhausted |= part["exhausted"]
    outcome.completed = len(outcome.latencies_ms)
    return outcome
