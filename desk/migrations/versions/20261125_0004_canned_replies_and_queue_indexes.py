"""canned replies and queue indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:00:53.898357
"""
from alembic import op
import sqlalchemy as sa

# The queue's full-text search (PostgreSQL only; SQLite searches with LIKE). The expression must
# stay identical to desk.services.queue.search_document, or the planner will not use the index.
# The transcript goes through jsonb so that JSON escapes (\u00e8) become the letters they stand for.
SEARCH_INDEX = (
    "CREATE INDEX ix_tickets_search ON tickets USING gin (to_tsvector('simple', "
    "name || ' ' || company_name || ' ' || contact || ' ' || question || ' ' || "
    "CAST(jsonb_path_query_array(CAST(transcript AS JSONB), '$[*].text') AS TEXT)))"
)


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies'))
    )
    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.create_index('ix_canned_replies_active_language', ['active', 'language'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_active_sla_due_at', ['sla_due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('open', 'in_progress', 'waiting_on_user')"), sqlite_where=sa.text("status IN ('open', 'in_progress', 'waiting_on_user')"))
        batch_op.create_index('ix_tickets_created_at', ['created_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEARCH_INDEX)



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_search")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_created_at')
        batch_op.drop_index('ix_tickets_active_sla_due_at', postgresql_where=sa.text("status IN ('open', 'in_progress', 'waiting_on_user')"), sqlite_where=sa.text("status IN ('open', 'in_progress', 'waiting_on_user')"))

    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_canned_replies_active_language')

    op.drop_table('canned_replies')
