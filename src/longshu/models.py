"""Every domain's tables, imported so that metadata and Alembic see the whole schema."""

from longshu import events  # noqa: F401
from longshu.db import Base

MODEL_MODULES = [
    "longshu.events",
    "longshu.workflow",
    "longshu.security.identity.models",
    "longshu.security.ledger.models",
    "longshu.orgs.models",
    "longshu.catalog.models",
    "longshu.lake.models",
    "longshu.ingest.models",
    "longshu.governance.models",
    "longshu.sharing.models",
    "longshu.sharing.verify_models",
    "longshu.sharing.delivery_models",
    "longshu.sharing.flow_models",
]


def load_all() -> type[Base]:
    import importlib

    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and name.startswith(exc.name)):  # a real import error inside
                raise
    return Base
