"""The background worker's entry point: ``huey_consumer longshu.worker.huey``.

Importing this module registers everything a worker process needs — the models, every event
subscriber and every domain's tasks — so that events delivered here reach the same
subscribers as in the web process."""

from __future__ import annotations

import importlib

from longshu.app import SUBSCRIBER_MODULES
from longshu.models import load_all

TASK_MODULES = ["longshu.tasks", "longshu.ingest.runner", "longshu.sharing.tasks"]

load_all()
for _name in SUBSCRIBER_MODULES + TASK_MODULES:
    importlib.import_module(_name)

from longshu.tasks import huey  # noqa: E402 — after the registrations above

__all__ = ["huey"]
