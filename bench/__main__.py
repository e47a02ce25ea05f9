"""`python -m bench [SCENARIO] [ARGS]`: run one benchmark and print its table.

Without a scenario name (or with `masked-numbers`) it runs the masked-number
benchmark (routing, allocation, pool); `dispatch`, `calllog`, `bindings`,
`webhooks`, `imports`, `multihost` and `simulator-validation` run the others.
`python -m bench SCENARIO --help` lists a scenario's arguments.
"""

from __future__ import annotations

import importlib
import sys

SCENARIOS = {
    "masked-numbers": "bench.scenarios.masked_numbers",
    "dispatch": "bench.scenarios.dispatch",
    "calllog": "bench.scenarios.calllog",
    "bindings": "bench.scenarios.bindings",
    "imports": "bench.scenarios.imports",
    "simulator-validation": "bench.scenarios.simulator_validation",
    "webhooks": "bench.scenarios.webhooks",
    "multihost": "bench.scenarios.multihost",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    name = "masked-numbers"
    if argv and argv[0] in SCENARIOS:
        name, argv = argv[0], argv[1:]
    elif argv and not argv[0].startswith("-"):
        print(f"python -m bench: no scenario {argv[0]!r}; one of {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    elif argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
    return importlib.import_module(SCENARIOS[name]).main(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
