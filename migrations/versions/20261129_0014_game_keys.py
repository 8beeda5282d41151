"""keys: pools per SKU and platform, sealed game keys, order lines owed keys

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 03:40:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'key_pools',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('sku_id', sa.String(length=64), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('low_stock_threshold', sa.Integer(), nullable=False),
        sa.Column('low_stock_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('low_stock_threshold >= 0', name=op.f('ck_key_pools_threshold_not_negative')),
        sa.ForeignKeyConstraint(['sku_id'], ['skus.sku_id'], name=op.f('fk_key_pools_sku_id_skus')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_key_pools')),
        sa.UniqueConstraint('sku_id', 'platform', name=op.f('uq_key_pools_sku_id_platform')),
    )
    op.create_table(
        'game_keys',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('pool_id', sa.Uuid(), nullable=False),
        sa.Column('sku_id', sa.String(length=64), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('sealed_code', sa.Text(), nullable=False),
        sa.Column('vault_kid', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('hint', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=True),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('grant_key', sa.String(length=200), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revocation_reason', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['pool_id'], ['key_pools.id'], name=op.f('fk_game_keys_pool_id_key_pools')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_game_keys_order_id_orders'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_game_keys_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_game_keys')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_game_keys_code_hash')),
        sa.UniqueConstraint('grant_key', name=op.f('uq_game_keys_grant_key')),
    )
    op.create_index('ix_game_keys_available', 'game_keys', ['sku_id', 'created_at'], unique=False,
                    postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))
    op.create_index('ix_game_keys_pool_available', 'game_keys', ['pool_id'], unique=False,
                    postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))
    op.create_index('ix_game_keys_order_sku', 'game_keys', ['order_id', 'sku_id'], unique=False)
    op.create_index(op.f('ix_game_keys_pool_id'), 'game_keys', ['pool_id'], unique=False)
    op.create_index(op.f('ix_game_keys_status'), 'game_keys', ['status'], unique=False)
    op.create_index(op.f('ix_game_keys_user_id'), 'game_keys', ['user_id'], unique=False)
    op.create_index(op.f('ix_game_keys_vault_kid'), 'game_keys', ['vault_kid'], unique=False)
    op.create_table(
        'key_lines',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('sku_id', sa.String(length=64), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('purchase_quantity', sa.Integer(), nullable=False),
        sa.Column('supplier', sa.String(length=64), nullable=True),
        sa.Column('external_order_id', sa.String(length=128), nullable=True),
        sa.Column('reason', sa.String(length=255), nullable=True),
        sa.Column('backordered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_key_lines_order_id_orders'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_key_lines')),
        sa.UniqueConstraint('order_id', 'sku_id', name=op.f('uq_key_lines_order_id_sku_id')),
    )
    op.create_index('ix_key_lines_status', 'key_lines', ['status'], unique=False)
    op.create_index(op.f('ix_key_lines_external_order_id'), 'key_lines', ['external_order_id'], unique=False)


def downgrade() -> None:
    op.drop_table('key_lines')
    op.drop_table('game_keys')
    op.drop_table('key_pools')
