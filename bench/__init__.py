"""Benchmark of the masked-number feature (`make bench`, `python -m bench`).

It measures, against a PostgreSQL database it creates and drops itself:
inbound routing under gunicorn next to a trivial Flask app served the same
way, concurrent proxy-number allocation on top of a million active
bindings, and how close allocation keeps the pool to its lower bound.
Everything it talks to is on 127.0.0.1, bounded in count and time.
"""
