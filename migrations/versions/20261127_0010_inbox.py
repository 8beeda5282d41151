"""inbox: messages and each player's state of one

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BROADCAST = "audience = 'everyone'"
UNDELIVERED = "delivered_at IS NULL"


def upgrade() -> None:
    op.create_table(
        'messages',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('attachments', JSON, nullable=False),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('recipient_ids', JSON, nullable=True),
        sa.Column('include_new_players', sa.Boolean(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('source_key', sa.String(length=300), nullable=True),
        sa.Column('sender_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_messages_sender_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
        sa.UniqueConstraint('source_key', name=op.f('uq_messages_source_key')),
    )
    op.create_index(op.f('ix_messages_sender_id'), 'messages', ['sender_id'], unique=False)
    op.create_index('ix_messages_broadcast', 'messages', ['created_at', 'id'], unique=False,
                    postgresql_where=sa.text(BROADCAST), sqlite_where=sa.text(BROADCAST))
    op.create_index('ix_messages_undelivered', 'messages', ['created_at'], unique=False,
                    postgresql_where=sa.text(UNDELIVERED), sqlite_where=sa.text(UNDELIVERED))
    op.create_table(
        'message_recipients',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('message_id', sa.Uuid(), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_recipients_message_id_messages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_message_recipients_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'message_id', name=op.f('pk_message_recipients')),
    )
    op.create_index(op.f('ix_message_recipients_message_id'), 'message_recipients', ['message_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_message_recipients_message_id'), table_name='message_recipients')
    op.drop_table('message_recipients')
    op.drop_index('ix_messages_undelivered', table_name='messages')
    op.drop_index('ix_messages_broadcast', table_name='messages')
    op.drop_index(op.f('ix_messages_sender_id'), table_name='messages')
    op.drop_table('messages')
