"""sharing: verification keeps each record's region code (region-limited grants verify)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:34:12.305401
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sharing_verify_index", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_column", sa.String(length=128), nullable=True))

    with op.batch_alter_table("sharing_verify_setup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_column", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sharing_verify_setup", schema=None) as batch_op:
        batch_op.drop_column("region_column")

    with op.batch_alter_table("sharing_verify_index", schema=None) as batch_op:
        batch_op.drop_column("region_column")
