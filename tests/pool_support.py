"""What the proxy pool's tests share: the simulator's numbers given back after each test.

The simulator serves the whole session: a number a test bought would stay the
account's, and later tests (`proxy sync`, calls to a phone of that number) would
see it. Import `restore_simulator_numbers` into a test module and use it, or
wrap the work in `numbers_restored(state)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def numbers_restored(state) -> Iterator[None]:
    with state.lock:
        owned, sold = dict(state.numbers), set(state.sold_elsewhere)
    try:
        yield
    finally:
        with state.lock:
            state.numbers.clear()
            state.numbers.update(owned)
            state.sold_elsewhere.clear()
            state.sold_elsewhere.update(sold)


@pytest.fixture
def restore_simulator_numbers(simulator):
    with numbers_restored(simulator.state):
        yield simulator.state
