"""dated facts, recorded sources, the map of service points, update notices

Revision ID: 0015
Revises: 0004
Create Date: 2026-12-01 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('knowledge_entries') as batch:
        batch.add_column(sa.Column('sources', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('verified_by', sa.String(length=120), nullable=False, server_default='seed'))
    with op.batch_alter_table('knowledge_versions') as batch:
        batch.add_column(sa.Column('rules_changed', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('knowledge_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('label_it', sa.String(length=300), nullable=False),
    sa.Column('label_en', sa.String(length=300), nullable=False),
    sa.Column('text_it', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('budget_law', sa.Boolean(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('source_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name=op.f('fk_knowledge_facts_entry_id_knowledge_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_facts')),
    sa.UniqueConstraint('entry_id', 'key', name='uq_knowledge_facts_entry_key')
    )
    op.create_index(op.f('ix_knowledge_facts_entry_id'), 'knowledge_facts', ['entry_id'], unique=False)

    with op.batch_alter_table('service_points') as batch:
        batch.add_column(sa.Column('source_url', sa.String(length=500), nullable=False, server_default=''))
        batch.add_column(sa.Column('checked_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('areas', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('serves_everywhere', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.create_table('service_point_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['service_points.id'], name=op.f('fk_service_point_versions_point_id_service_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_point_versions')),
    sa.UniqueConstraint('point_id', 'version', name='uq_service_point_versions_point_version')
    )
    op.create_index(op.f('ix_service_point_versions_point_id'), 'service_point_versions', ['point_id'], unique=False)

    with op.batch_alter_table('outbound_messages') as batch:
        batch.alter_column('ticket_id', existing_type=sa.Integer(), nullable=True)

    op.create_table('update_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('consented_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_subscriptions')),
    sa.UniqueConstraint('channel', 'address', 'topic', name='uq_update_subscriptions_channel_address_topic')
    )
    op.create_index('ix_update_subscriptions_topic', 'update_subscriptions', ['topic'], unique=False)
    op.create_table('update_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('knowledge_version', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('outbound_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('deliver_after', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outbound_message_id'], ['outbound_messages.id'], name=op.f('fk_update_notices_outbound_message_id_outbound_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscription_id'], ['update_subscriptions.id'], name=op.f('fk_update_notices_subscription_id_update_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_notices'))
    )
    op.create_index('ix_update_notices_channel_address', 'update_notices', ['channel', 'address'], unique=False)
    op.create_index(op.f('ix_update_notices_subscription_id'), 'update_notices', ['subscription_id'], unique=False)
    op.create_index(op.f('ix_update_notices_topic'), 'update_notices', ['topic'], unique=False)


def downgrade() -> None:
    op.drop_table('update_notices')
    op.drop_table('update_subscriptions')
    op.execute(sa.text("DELETE FROM outbound_messages WHERE ticket_id IS NULL"))
    with op.batch_alter_table('outbound_messages') as batch:
        batch.alter_column('ticket_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('service_point_versions')
    with op.batch_alter_table('service_points') as batch:
        for name in ('version', 'longitude', 'latitude', 'serves_everywhere', 'areas', 'checked_on', 'source_url'):
            batch.drop_column(name)
    op.drop_table('knowledge_facts')
    with op.batch_alter_table('knowledge_versions') as batch:
        batch.drop_column('rules_changed')
    with op.batch_alter_table('knowledge_entries') as batch:
        batch.drop_column('verified_by')
        batch.drop_column('sources')
