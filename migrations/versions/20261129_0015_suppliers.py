"""suppliers: SKU-to-product routes, synced offers, supplier orders; the SKU's margin floor

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("skus", sa.Column("margin_floor", sa.Integer(), nullable=True))
    op.create_table(
        "supplier_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("supplier", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_products")),
        sa.UniqueConstraint(
            "sku_id",
            "platform",
            "supplier",
            name=op.f("uq_supplier_products_sku_id_platform_supplier"),
        ),
    )
    op.create_table(
        "supplier_offers",
        sa.Column("supplier", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("supplier", "product_id", name=op.f("pk_supplier_offers")),
    )
    op.create_table(
        "supplier_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_ref", sa.String(length=128), nullable=False),
        sa.Column("supplier", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_order_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_orders")),
        sa.UniqueConstraint(
            "order_ref", "supplier", name=op.f("uq_supplier_orders_order_ref_supplier")
        ),
    )
    op.create_index(
        "ix_supplier_orders_external",
        "supplier_orders",
        ["supplier", "external_order_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_supplier_orders_external", table_name="supplier_orders")
    op.drop_table("supplier_orders")
    op.drop_table("supplier_offers")
    op.drop_table("supplier_products")
    op.drop_column("skus", "margin_floor")
