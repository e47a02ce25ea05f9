"""One module per benchmark, each composed from `bench.harness`.

- `masked_numbers` (`python -m bench`): the loaded database (`masked_data`),
  then `routing`, `allocation` and `pool`, in one table
- `dispatch` (`python -m bench dispatch`): callbacks falling due together
  (`dispatch_data`, `dispatch_outcome`)
- `calllog` (`python -m bench calllog`): call-log search and verification (`calllog_data`)
- `bindings` (`python -m bench bindings`): bindings/s through `POST /api/v1/bindings` with a
  client key, beside the trivial `GET /api/v1/integration/whoami`
- `imports` (`python -m bench imports`): the merchant import's rows/s, SQLite and PostgreSQL
- `simulator_validation` (`python -m bench simulator-validation`): the simulator's request check
"""
