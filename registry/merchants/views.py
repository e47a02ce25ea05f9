"""HTML: merchant onboarding."""

from flask import Blueprint

bp = Blueprint("merchants", __name__)
