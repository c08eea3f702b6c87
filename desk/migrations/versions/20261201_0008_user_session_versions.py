"""user session versions

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01 14:45:00

A desk session remembers its user's session version at login and is refused once the
version moves on (logout, password, role or activity change): copied cookies stop working.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
