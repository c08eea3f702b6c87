"""check parameters and check events

Revision ID: 0013
Revises: 0004
Create Date: 2026-12-01 14:32:49.452116
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('check_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('check_id', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_events'))
    )
    with op.batch_alter_table('check_events', schema=None) as batch_op:
        batch_op.create_index('ix_check_events_check_created', ['check_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_events_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_events_created_at'), ['created_at'], unique=False)

    op.create_table('check_parameters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=False),
    sa.Column('unconfirmed', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('edited_in_desk', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_parameters')),
    sa.UniqueConstraint('key', 'valid_from', name='uq_check_parameters_key_valid_from')
    )
    with op.batch_alter_table('check_parameters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_parameters_key'), ['key'], unique=False)

    op.create_table('check_parameter_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parameter_id'], ['check_parameters.id'], name=op.f('fk_check_parameter_versions_parameter_id_check_parameters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_parameter_versions')),
    sa.UniqueConstraint('parameter_id', 'version', name='uq_check_parameter_versions_parameter_version')
    )


def downgrade() -> None:
    op.drop_table('check_parameter_versions')
    with op.batch_alter_table('check_parameters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_parameters_key'))

    op.drop_table('check_parameters')
    with op.batch_alter_table('check_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_check_events_conversation_id'))
        batch_op.drop_index('ix_check_events_check_created')

    op.drop_table('check_events')
