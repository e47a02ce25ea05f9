"""Public pages: home and the store page."""

from flask import Blueprint

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return "Merchant registry"
