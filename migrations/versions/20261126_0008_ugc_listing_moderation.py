"""ugc: listing indexes, rating_score, two-person removal proposals

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PUBLIC = "status = 'published' AND visibility = 'public'"
SORTS = {"recent": "published_at", "top": "rating_score", "downloads": "download_count"}


def upgrade() -> None:
    with op.batch_alter_table('ugc') as batch:
        batch.add_column(sa.Column('rating_score', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('removal_proposed_by', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('removal_proposed_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('removal_proposal_notes', sa.Text(), nullable=True))
        batch.create_index(batch.f('ix_ugc_removal_proposed_by'), ['removal_proposed_by'], unique=False)
        batch.create_foreign_key(batch.f('fk_ugc_removal_proposed_by_users'), 'users', ['removal_proposed_by'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('ugc') as batch:
        batch.alter_column('rating_score', server_default=None)
    for sort, column in SORTS.items():
        where = {"postgresql_where": sa.text(PUBLIC), "sqlite_where": sa.text(PUBLIC)}
        op.create_index(f'ix_ugc_public_{sort}', 'ugc', [column, 'id'], unique=False, **where)
        op.create_index(f'ix_ugc_public_type_{sort}', 'ugc', ['type', column, 'id'], unique=False, **where)
    op.create_index('ix_ugc_tags', 'ugc', ['tags'], unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_ugc_tags', table_name='ugc')
    for sort in SORTS:
        op.drop_index(f'ix_ugc_public_type_{sort}', table_name='ugc')
        op.drop_index(f'ix_ugc_public_{sort}', table_name='ugc')
    with op.batch_alter_table('ugc') as batch:
        batch.drop_constraint(batch.f('fk_ugc_removal_proposed_by_users'), type_='foreignkey')
        batch.drop_index(batch.f('ix_ugc_removal_proposed_by'))
        batch.drop_column('removal_proposal_notes')
        batch.drop_column('removal_proposed_at')
        batch.drop_column('removal_proposed_by')
        batch.drop_column('rating_score')
