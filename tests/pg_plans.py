"""The plan PostgreSQL keeps for a prepared statement once it plans it for any parameters."""

import re

from sqlalchemy import text

_PARAM = re.compile(r"%\((\w+)\)s")


def generic_plan(session, statement, types: dict[str, str], values: dict[str, str]) -> str:
    """EXPLAIN of `statement`'s generic plan, the one psycopg's prepared statements soon run.

    Parameters are prepared with `types` (SQL type names, text for the others) and explained
    with `values` (SQL literals, now() for the others).
    """
    sql = str(statement.compile(dialect=session.get_bind().dialect))
    names = list(dict.fromkeys(_PARAM.findall(sql)))
    sql = _PARAM.sub(lambda m: f"${names.index(m[1]) + 1}", sql).replace("%%", "%")
    arguments = ", ".join(types.get(name, "text") for name in names)
    session.execute(text(f"PREPARE generic_probe ({arguments}) AS {sql}".replace(":", r"\:")))
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    try:
        literals = ", ".join(values.get(name, "now()") for name in names)
        return "\n".join(session.scalars(text(f"EXPLAIN EXECUTE generic_probe ({literals})")))
    finally:
        session.execute(text("DEALLOCATE generic_probe"))
