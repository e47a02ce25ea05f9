"""HTML: sign-up, login, logout."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)


@bp.get("/login")
def login():
    return "login"
