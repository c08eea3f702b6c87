"""learning decisions and knowledge drafts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:02:08.513681
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('knowledge_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('question_examples', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_drafts'))
    )
    op.create_table('learning_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text_key', sa.String(length=64), nullable=False),
    sa.Column('sample_text', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=True),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['knowledge_drafts.id'], name=op.f('fk_learning_decisions_draft_id_knowledge_drafts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_decisions')),
    sa.UniqueConstraint('text_key', name=op.f('uq_learning_decisions_text_key'))
    )


def downgrade() -> None:
    op.drop_table('learning_decisions')
    op.drop_table('knowledge_drafts')

