"""e-mail delivery: an e-mail may stand in for a widget message left unread

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-01 14:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_of_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_outbound_messages_fallback_of_id'), ['fallback_of_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_outbound_messages_fallback_of_id_outbound_messages'), 'outbound_messages',
            ['fallback_of_id'], ['id'], ondelete='CASCADE',
        )


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_messages_fallback_of_id_outbound_messages'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_outbound_messages_fallback_of_id'), type_='unique')
        batch_op.drop_column('fallback_of_id')
