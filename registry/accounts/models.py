"""Users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.extensions import db
from registry.core.timeutil import utcnow

# An admin is a staff member who may also manage integration clients.
ROLES = ("merchant", "staff", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_staff(self) -> bool:
        """Staff and admins (an admin is a staff member with more rights)."""
        return self.role in ("staff", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_role(self, role: str) -> bool:
        """Whether this account may act as `role` (`staff` includes admins)."""
        return self.is_staff if role == "staff" else self.role == role

    @property
    def is_merchant(self) -> bool:
        return self.role == "merchant"


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals none."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginThrottle(db.Model):
    """Failed sign-ins for one email address, for the per-account lockout.

    Keyed by a keyed hash of the address, whether or not an account has it: an address
    without an account is locked exactly as one with an account, so the lockout tells no one
    which addresses have accounts (and addresses typed by strangers are not kept in clear).
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
