"""inbox reads: live broadcasts and unread state rows get partial indexes

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BROADCAST = "audience = 'everyone'"
LIVE_BROADCAST = "audience = 'everyone' AND delivered_at IS NOT NULL"
UNREAD = "read_at IS NULL AND deleted_at IS NULL"


def upgrade() -> None:
    op.drop_index('ix_messages_broadcast', table_name='messages')
    op.create_index('ix_messages_live_broadcast', 'messages', ['created_at', 'id'], unique=False,
                    postgresql_where=sa.text(LIVE_BROADCAST), sqlite_where=sa.text(LIVE_BROADCAST))
    op.create_index('ix_message_recipients_unread', 'message_recipients', ['user_id'],
                    unique=False, postgresql_where=sa.text(UNREAD), sqlite_where=sa.text(UNREAD))


def downgrade() -> None:
    op.drop_index('ix_message_recipients_unread', table_name='message_recipients')
    op.drop_index('ix_messages_live_broadcast', table_name='messages')
    op.create_index('ix_messages_broadcast', 'messages', ['created_at', 'id'], unique=False,
                    postgresql_where=sa.text(BROADCAST), sqlite_where=sa.text(BROADCAST))
