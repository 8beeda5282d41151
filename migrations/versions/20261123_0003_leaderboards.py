"""leaderboards: seasons, entries, archives, rewards, api keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 00:09:36.955156
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seasons',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('season_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('sort', sa.String(length=4), nullable=False),
    sa.Column('operator', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reset_rule', sa.String(length=16), nullable=False),
    sa.Column('min_score', sa.BigInteger(), nullable=True),
    sa.Column('max_score', sa.BigInteger(), nullable=True),
    sa.Column('max_increase', sa.BigInteger(), nullable=True),
    sa.Column('authoritative', sa.Boolean(), nullable=False),
    sa.Column('rewards', JSON, nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seasons')),
    sa.UniqueConstraint('season_id', name=op.f('uq_seasons_season_id'))
    )
    op.create_index(op.f('ix_seasons_end_date'), 'seasons', ['end_date'], unique=False)
    op.create_table('api_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', JSON, nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_api_keys_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_index(op.f('ix_api_keys_created_by'), 'api_keys', ['created_by'], unique=False)
    op.create_table('leaderboard_entries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('previous_score', sa.BigInteger(), nullable=True),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('metadata', JSON, nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.Uuid(), nullable=True),
    sa.Column('removal_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['removed_by'], ['users.id'], name=op.f('fk_leaderboard_entries_removed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_leaderboard_entries_season_id_seasons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_leaderboard_entries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaderboard_entries')),
    sa.UniqueConstraint('season_id', 'user_id', name=op.f('uq_leaderboard_entries_season_id_user_id'))
    )
    op.create_index('ix_leaderboard_entries_ranking', 'leaderboard_entries', ['season_id', 'region', 'score', 'reached_at', 'user_id'], unique=False)
    op.create_index(op.f('ix_leaderboard_entries_removed_by'), 'leaderboard_entries', ['removed_by'], unique=False)
    op.create_index(op.f('ix_leaderboard_entries_user_id'), 'leaderboard_entries', ['user_id'], unique=False)
    op.create_table('season_rewards',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_rewards_season_id_seasons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_season_rewards_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_season_rewards')),
    sa.UniqueConstraint('season_id', 'user_id', 'sku_id', name=op.f('uq_season_rewards_season_id_user_id_sku_id'))
    )
    op.create_index(op.f('ix_season_rewards_status'), 'season_rewards', ['status'], unique=False)
    op.create_index(op.f('ix_season_rewards_user_id'), 'season_rewards', ['user_id'], unique=False)
    op.create_table('season_standings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('metadata', JSON, nullable=True),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_standings_season_id_seasons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_season_standings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_season_standings')),
    sa.UniqueConstraint('season_id', 'region', 'rank', name=op.f('uq_season_standings_season_id_region_rank'))
    )
    op.create_index(op.f('ix_season_standings_user_id'), 'season_standings', ['user_id'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('region', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('region')
    op.drop_index(op.f('ix_season_standings_user_id'), table_name='season_standings')
    op.drop_table('season_standings')
    op.drop_index(op.f('ix_season_rewards_user_id'), table_name='season_rewards')
    op.drop_index(op.f('ix_season_rewards_status'), table_name='season_rewards')
    op.drop_table('season_rewards')
    op.drop_index(op.f('ix_leaderboard_entries_user_id'), table_name='leaderboard_entries')
    op.drop_index(op.f('ix_leaderboard_entries_removed_by'), table_name='leaderboard_entries')
    op.drop_index('ix_leaderboard_entries_ranking', table_name='leaderboard_entries')
    op.drop_table('leaderboard_entries')
    op.drop_index(op.f('ix_api_keys_created_by'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_index(op.f('ix_seasons_end_date'), table_name='seasons')
    op.drop_table('seasons')
