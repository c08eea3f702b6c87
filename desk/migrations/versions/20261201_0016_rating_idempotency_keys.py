"""ratings carry the client's idempotency key: a rating sent again is recorded once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answer_feedback') as batch:
        batch.add_column(sa.Column('message_key', sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f('uq_answer_feedback_message_key'), ['message_key'])


def downgrade() -> None:
    with op.batch_alter_table('answer_feedback') as batch:
        batch.drop_constraint(batch.f('uq_answer_feedback_message_key'), type_='unique')
        batch.drop_column('message_key')
