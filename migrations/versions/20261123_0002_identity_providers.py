"""identity providers: merged and erased accounts, provider credentials, used nonces

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:03:22.177365
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('used_nonces',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('nonce', sa.String(length=255), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_used_nonces')),
    sa.UniqueConstraint('provider', 'nonce', name=op.f('uq_used_nonces_provider_nonce'))
    )
    op.create_index(op.f('ix_used_nonces_expires_at'), 'used_nonces', ['expires_at'], unique=False)
    op.add_column('identities', sa.Column('credentials', sa.Text(), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('merged_into_id', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f('ix_users_merged_into_id'), ['merged_into_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_users_merged_into_id_users'), 'users', ['merged_into_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(batch.f('fk_users_merged_into_id_users'), type_='foreignkey')
        batch.drop_index(batch.f('ix_users_merged_into_id'))
        batch.drop_column('deleted_at')
        batch.drop_column('merged_into_id')
    op.drop_column('identities', 'credentials')
    op.drop_index(op.f('ix_used_nonces_expires_at'), table_name='used_nonces')
    op.drop_table('used_nonces')
