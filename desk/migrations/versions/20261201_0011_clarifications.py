"""clarifications: the topics the assistant offered when unsure, and the user's choice

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-01 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clarifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('turn_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('offered', sa.JSON(), nullable=False),
    sa.Column('choice', sa.String(length=20), nullable=True),
    sa.Column('chosen_topic', sa.String(length=80), nullable=True),
    sa.Column('chosen_at', sa.DateTime(), nullable=True),
    sa.Column('review', sa.String(length=20), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['turn_id'], ['assistant_turns.id'], name=op.f('fk_clarifications_turn_id_assistant_turns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clarifications')),
    sa.UniqueConstraint('turn_id', name=op.f('uq_clarifications_turn_id'))
    )
    op.create_index('ix_clarifications_conversation_created', 'clarifications', ['conversation_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_clarifications_created_at'), 'clarifications', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_clarifications_created_at'), table_name='clarifications')
    op.drop_index('ix_clarifications_conversation_created', table_name='clarifications')
    op.drop_table('clarifications')
