"""The benchmarks `make bench` runs (`python -m bench [SCENARIO] ...`).

`bench.harness` holds what every benchmark needs once: processes and CPU
metering, servers, load, timing, the machine-speed measure, tables and the
database helpers. `bench.scenarios` holds one short module per benchmark,
composed from the harness. Everything a benchmark talks to is on 127.0.0.1,
bounded in count and time, in databases it creates and drops itself.
"""
