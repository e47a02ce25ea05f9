"""The scheduler's heartbeat: one row per scheduler process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.extensions import db


class SchedulerHeartbeat(db.Model):
    """When a scheduler process (`host:pid`) last finished a dispatch pass."""

    __tablename__ = "scheduler_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_dispatch_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
