"""webhook events: failed_at, set when an event is given up after its last attempt

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('webhook_events', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('webhook_events', 'failed_at')
