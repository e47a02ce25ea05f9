"""Refusals of the merchant import (`merchants/import_input.py`, `merchants/imports.py`), the
body limits (`core/bodies.py`) and the set-password links of invited owners
(`accounts/invitations.py`). Keys as in the other catalogue modules (`code` or `code.detail`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/core/bodies.py
    "too_large.body": _l("The body is larger than %(limit)s; send less at a time."),
    # registry/merchants/hours.py: business hours written as text (a CSV cell)
    "invalid.hours_text": _l('Cannot read "%(part)s": write business hours as "mon-fri 09:00-18:00; '
                             'sat 10:00-14:00" (days mon to sun, ranges HH:MM-HH:MM separated by '
                             'commas, or closed).'),
    # registry/merchants/import_input.py: the file as a whole
    "unsupported_media_type.import": _l("Send the body as text/csv or as application/json."),
    "invalid.import_nul": _l("The file contains a NUL byte (line %(line)s): it is not a CSV text file."),
    "invalid.import_encoding": _l("The file is not UTF-8 text (line %(line)s); save it as CSV UTF-8."),
    "invalid.import_too_many_rows": _l("An import takes at most %(limit)s rows; split the file."),
    "required.import_column": _l("The header has no '%(column)s' column; it must name %(columns)s."),
    "invalid.import_column": _l("The header names an unknown or repeated column '%(column)s'; the "
                                "columns are %(columns)s."),
    "invalid.import_csv": _l("The CSV cannot be read near line %(line)s (a quote left open, or a "
                             "cell too long)."),
    "invalid.import_json": _l("Send a JSON array of objects, one store each."),
    # registry/merchants/import_input.py and imports.py: one row
    "invalid.import_cells": _l("This row has %(found)s cells; the header has %(expected)s."),
    "duplicate.external_id": _l("This external id is already on row %(first)s of this import; only "
                                "that row is imported."),
    "conflict.import_row": _l("This store was changed by another import at the same moment; import "
                              "the row again."),
    "conflict.import_owner_taken": _l("The account of this email already owns another store."),
    "conflict.import_owner_staff": _l("This email belongs to a staff account; a store's owner needs a "
                                      "merchant account."),
    "conflict.import_owner_changed": _l("This store has another owner; an import does not change a "
                                        "store's owner."),
    # registry/accounts/invitations.py
    "invalid.set_password_link": _l("This link is not valid or was already used; ask for a new one."),
    "invalid.set_password_link_expired": _l("This link has expired; ask for a new one."),
}
