"""storefront: studio webhooks (endpoints, outbox events, deliveries), invoices with a gapless
counter, wishlists and their alerts

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 03:27:34.019762
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invoice_counters',
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_invoice_counters'))
    )
    op.create_table('studio_webhook_endpoints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio_webhook_endpoints'))
    )
    op.create_table('studio_webhook_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio_webhook_events'))
    )
    op.create_index(op.f('ix_studio_webhook_events_created_at'), 'studio_webhook_events', ['created_at'], unique=False)
    op.create_table('studio_webhook_deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('endpoint_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dead_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['studio_webhook_endpoints.id'], name=op.f('fk_studio_webhook_deliveries_endpoint_id_studio_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['studio_webhook_events.id'], name=op.f('fk_studio_webhook_deliveries_event_id_studio_webhook_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio_webhook_deliveries')),
    sa.UniqueConstraint('event_id', 'endpoint_id', name=op.f('uq_studio_webhook_deliveries_event_id_endpoint_id'))
    )
    op.create_index('ix_studio_webhook_deliveries_due', 'studio_webhook_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_studio_webhook_deliveries_endpoint_id'), 'studio_webhook_deliveries', ['endpoint_id'], unique=False)
    op.create_table('wishlist_alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('cursor', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.sku_id'], name=op.f('fk_wishlist_alerts_sku_id_skus'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wishlist_alerts'))
    )
    op.create_index(op.f('ix_wishlist_alerts_sku_id'), 'wishlist_alerts', ['sku_id'], unique=False)
    op.create_table('wishlist_items',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.sku_id'], name=op.f('fk_wishlist_items_sku_id_skus'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wishlist_items_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'sku_id', name=op.f('pk_wishlist_items'))
    )
    op.create_index(op.f('ix_wishlist_items_sku_id'), 'wishlist_items', ['sku_id'], unique=False)
    op.create_table('invoices',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('tax', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=True),
    sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_invoices_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invoices_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('order_id', name=op.f('uq_invoices_order_id')),
    sa.UniqueConstraint('series', 'number', name=op.f('uq_invoices_series_number'))
    )
    op.create_index(op.f('ix_invoices_user_id'), 'invoices', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_invoices_user_id'), table_name='invoices')
    op.drop_table('invoices')
    op.drop_index(op.f('ix_wishlist_items_sku_id'), table_name='wishlist_items')
    op.drop_table('wishlist_items')
    op.drop_index(op.f('ix_wishlist_alerts_sku_id'), table_name='wishlist_alerts')
    op.drop_table('wishlist_alerts')
    op.drop_index(op.f('ix_studio_webhook_deliveries_endpoint_id'), table_name='studio_webhook_deliveries')
    op.drop_index('ix_studio_webhook_deliveries_due', table_name='studio_webhook_deliveries')
    op.drop_table('studio_webhook_deliveries')
    op.drop_index(op.f('ix_studio_webhook_events_created_at'), table_name='studio_webhook_events')
    op.drop_table('studio_webhook_events')
    op.drop_table('studio_webhook_endpoints')
    op.drop_table('invoice_counters')
