"""payments: PayPal, fraud holds and KYC, resellers' API keys, publishers' SKUs

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('client_ip', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('device_id', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('payment_fingerprint', sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column('fraud_reasons', JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_orders_client_ip_created_at', 'orders', ['client_ip', 'created_at'])
    op.create_index('ix_orders_device_id', 'orders', ['device_id'])
    op.create_index(
        'ix_orders_payment_fingerprint_created_at', 'orders', ['payment_fingerprint', 'created_at']
    )
    op.create_index('ix_orders_user_id_created_at', 'orders', ['user_id', 'created_at'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('kyc_verified_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('skus') as batch:
        batch.add_column(sa.Column('publisher_id', sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_skus_publisher_id_users'), 'users', ['publisher_id'], ['id'],
            ondelete='SET NULL',
        )
        batch.create_index(op.f('ix_skus_publisher_id'), ['publisher_id'])
    with op.batch_alter_table('api_keys') as batch:
        batch.add_column(sa.Column('owner_id', sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_api_keys_owner_id_users'), 'users', ['owner_id'], ['id'], ondelete='CASCADE'
        )
        batch.create_index(op.f('ix_api_keys_owner_id'), ['owner_id'])


def downgrade() -> None:
    with op.batch_alter_table('api_keys') as batch:
        batch.drop_index(op.f('ix_api_keys_owner_id'))
        batch.drop_constraint(op.f('fk_api_keys_owner_id_users'), type_='foreignkey')
        batch.drop_column('owner_id')
    with op.batch_alter_table('skus') as batch:
        batch.drop_index(op.f('ix_skus_publisher_id'))
        batch.drop_constraint(op.f('fk_skus_publisher_id_users'), type_='foreignkey')
        batch.drop_column('publisher_id')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('kyc_verified_at')
    op.drop_index('ix_orders_user_id_created_at', table_name='orders')
    op.drop_index('ix_orders_payment_fingerprint_created_at', table_name='orders')
    op.drop_index('ix_orders_device_id', table_name='orders')
    op.drop_index('ix_orders_client_ip_created_at', table_name='orders')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('held_at')
        batch.drop_column('fraud_reasons')
        batch.drop_column('payment_fingerprint')
        batch.drop_column('device_id')
        batch.drop_column('client_ip')
