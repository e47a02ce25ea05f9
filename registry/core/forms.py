"""The base of every HTML form: its text obeys `core.text` before any view sees it.

Every field of a `BaseForm` gets the control-character check as its first
validator, so a new form is covered without asking; a `TextAreaField` is
multi-line (tab and newline allowed, CR LF made LF), any other field one
line. A refused field shows the message by itself and the form answers 422
(`core.pages.render_form`), as for any other invalid field.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import StopValidation

from registry.core import messages
from registry.core.text import normalise_newlines, text_error


class TextCheck:
    """A WTForms validator: refuse control characters (and lone surrogates) in a field's text."""

    field_flags: dict = {}

    def __init__(self, multiline: bool):
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        values = field.data if isinstance(field.data, list) else [field.data]
        for value in values:
            if not isinstance(value, str):
                continue
            error = text_error(value, field.name, name=str(field.label.text or field.name),
                               multiline=self.multiline)
            if error is not None:
                raise StopValidation(messages.render(error))


def _newlines(value):
    return normalise_newlines(value) if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """A FlaskForm whose every field refuses control characters."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            multiline = issubclass(unbound_field.field_class, TextAreaField)
            kwargs = unbound_field.kwargs
            options = dict(options)
            options["validators"] = [TextCheck(multiline), *(kwargs.get("validators") or ())]
            if multiline:
                options["filters"] = [_newlines, *(kwargs.get("filters") or ())]
            return super().bind_field(form, unbound_field, options)
