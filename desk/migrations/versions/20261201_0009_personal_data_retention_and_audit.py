"""personal data: retention and audit

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-01 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacy_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cutoffs', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_runs'))
    )
    with op.batch_alter_table('privacy_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_runs_started_at'), ['started_at'], unique=False)

    op.create_table('privacy_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('identity_kind', sa.String(length=20), nullable=False),
    sa.Column('identity_hash', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_requests_identity_hash'), ['identity_hash'], unique=False)

    op.create_table('job_leases',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('assistant_turns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonymised_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonymised_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.drop_column('pseudonymised_at')
    with op.batch_alter_table('assistant_turns', schema=None) as batch_op:
        batch_op.drop_column('pseudonymised_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('consent_version')

    op.drop_table('job_leases')
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_requests_identity_hash'))
        batch_op.drop_index(batch_op.f('ix_privacy_requests_created_at'))

    op.drop_table('privacy_requests')
    with op.batch_alter_table('privacy_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_runs_started_at'))

    op.drop_table('privacy_runs')
