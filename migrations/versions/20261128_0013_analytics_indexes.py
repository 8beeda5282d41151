"""analytics: time-range indexes for sales and player figures

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 10:00:00.000000
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_orders_created_at', 'orders', ['created_at'], unique=False)
    op.create_index('ix_orders_refunded_at', 'orders', ['refunded_at'], unique=False)
    op.create_index('ix_users_created_at', 'users', ['created_at'], unique=False)
    op.create_index('ix_refresh_tokens_created_at', 'refresh_tokens', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refresh_tokens_created_at', table_name='refresh_tokens')
    op.drop_index('ix_users_created_at', table_name='users')
    op.drop_index('ix_orders_refunded_at', table_name='orders')
    op.drop_index('ix_orders_created_at', table_name='orders')
