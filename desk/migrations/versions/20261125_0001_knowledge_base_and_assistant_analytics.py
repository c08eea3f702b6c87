"""knowledge base and assistant analytics

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 07:21:47.632705
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answer_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_feedback'))
    )
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_feedback_topic'), ['topic'], unique=False)

    op.create_table('assistant_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=True),
    sa.Column('intent', sa.String(length=80), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_turns'))
    )
    with op.batch_alter_table('assistant_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_turns_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_turns_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_assistant_turns_outcome_created', ['outcome', 'created_at'], unique=False)

    op.create_table('knowledge_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('area', sa.String(length=80), nullable=False),
    sa.Column('title_it', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('answer_it', sa.Text(), nullable=False),
    sa.Column('answer_en', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=False),
    sa.Column('confidence', sa.String(length=10), nullable=False),
    sa.Column('confidence_note', sa.Text(), nullable=False),
    sa.Column('unconfirmed', sa.Boolean(), nullable=False),
    sa.Column('unconfirmed_points', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('edited_in_desk', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_entries')),
    sa.UniqueConstraint('topic', name=op.f('uq_knowledge_entries_topic'))
    )
    op.create_table('knowledge_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name=op.f('fk_knowledge_versions_entry_id_knowledge_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_versions')),
    sa.UniqueConstraint('entry_id', 'version', name='uq_knowledge_versions_entry_version')
    )


def downgrade() -> None:
    op.drop_table('knowledge_versions')
    op.drop_table('knowledge_entries')
    with op.batch_alter_table('assistant_turns', schema=None) as batch_op:
        batch_op.drop_index('ix_assistant_turns_outcome_created')
        batch_op.drop_index(batch_op.f('ix_assistant_turns_created_at'))
        batch_op.drop_index(batch_op.f('ix_assistant_turns_conversation_id'))

    op.drop_table('assistant_turns')
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_feedback_topic'))

    op.drop_table('answer_feedback')
