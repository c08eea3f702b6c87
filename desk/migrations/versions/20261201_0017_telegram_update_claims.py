"""webhook updates are claimed by one gateway at a time: several gateways can run side by side

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('telegram_updates') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('telegram_updates') as batch:
        batch.drop_column('claimed_until')
        batch.drop_column('claimed_by')
