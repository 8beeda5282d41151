"""seasons.index_stale_at: a leaderboard index that missed writes while Redis was down

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seasons", sa.Column("index_stale_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("seasons", "index_stale_at")
