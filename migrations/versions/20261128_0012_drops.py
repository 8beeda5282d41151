"""drops: campaigns, Twitch entitlements, per-player counts

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 00:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drop_campaigns',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('benefit_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reward_sku_id', sa.String(length=64), nullable=False),
    sa.Column('reward_quantity', sa.Integer(), nullable=False),
    sa.Column('per_player_limit', sa.Integer(), nullable=False),
    sa.Column('total_cap', sa.Integer(), nullable=True),
    sa.Column('granted_count', sa.Integer(), nullable=False),
    sa.Column('twitch_organization_id', sa.String(length=64), nullable=True),
    sa.Column('twitch_category_id', sa.String(length=64), nullable=True),
    sa.Column('twitch_campaign_id', sa.String(length=64), nullable=True),
    sa.Column('subscription_id', sa.String(length=64), nullable=True),
    sa.Column('subscription_status', sa.String(length=64), nullable=True),
    sa.Column('subscription_error', sa.Text(), nullable=True),
    sa.Column('subscription_revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('per_player_limit >= 1', name=op.f('ck_drop_campaigns_limit_positive')),
    sa.CheckConstraint('total_cap IS NULL OR granted_count <= total_cap', name=op.f('ck_drop_campaigns_within_cap')),
    sa.ForeignKeyConstraint(['reward_sku_id'], ['skus.sku_id'], name=op.f('fk_drop_campaigns_reward_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drop_campaigns'))
    )
    op.create_index(op.f('ix_drop_campaigns_subscription_id'), 'drop_campaigns', ['subscription_id'], unique=False)
    op.create_table('drop_player_counts',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('granted', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['drop_campaigns.id'], name=op.f('fk_drop_player_counts_campaign_id_drop_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_drop_player_counts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'user_id', name=op.f('pk_drop_player_counts'))
    )
    op.create_table('drops',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entitlement_id', sa.String(length=64), nullable=False),
    sa.Column('benefit_id', sa.String(length=64), nullable=False),
    sa.Column('twitch_user_id', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('refusal', sa.String(length=32), nullable=True),
    sa.Column('earned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilment', sa.String(length=16), nullable=True),
    sa.Column('fulfil_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfil_attempts', sa.Integer(), nullable=False),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfil_error', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['drop_campaigns.id'], name=op.f('fk_drops_campaign_id_drop_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_drops_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drops')),
    sa.UniqueConstraint('entitlement_id', name=op.f('uq_drops_entitlement_id'))
    )
    op.create_index(op.f('ix_drops_campaign_id'), 'drops', ['campaign_id'], unique=False)
    op.create_index('ix_drops_fulfilment_pending', 'drops', ['fulfil_after'], unique=False, postgresql_where=sa.text("fulfilment = 'pending'"), sqlite_where=sa.text("fulfilment = 'pending'"))
    op.create_index(op.f('ix_drops_user_id'), 'drops', ['user_id'], unique=False)
    op.create_index('ix_drops_waiting_twitch_user', 'drops', ['twitch_user_id'], unique=False, postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))


def downgrade() -> None:
    op.drop_index('ix_drops_waiting_twitch_user', table_name='drops', postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))
    op.drop_index(op.f('ix_drops_user_id'), table_name='drops')
    op.drop_index('ix_drops_fulfilment_pending', table_name='drops', postgresql_where=sa.text("fulfilment = 'pending'"), sqlite_where=sa.text("fulfilment = 'pending'"))
    op.drop_index(op.f('ix_drops_campaign_id'), table_name='drops')
    op.drop_table('drops')
    op.drop_table('drop_player_counts')
    op.drop_index(op.f('ix_drop_campaigns_subscription_id'), table_name='drop_campaigns')
    op.drop_table('drop_campaigns')
