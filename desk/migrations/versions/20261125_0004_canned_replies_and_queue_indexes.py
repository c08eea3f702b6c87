"""canned replies and queue indexes

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-25 10:00:53.898357
"""
from alembic import op
import sqlalchemy as sa

# The queue's full-text search, PostgreSQL only (SQLite searches with LIKE): a stored tsvector of
# the user's name, firm, contact, question and transcript lines, so that filtering on it costs no
# text parsing per row, with GIN indexes over all tickets and over active ones (the default view).
# The column is not in the model, which is shared with SQLite: desk.services.queue.search_document
# names it. The transcript goes through jsonb so that JSON escapes (\u00e8) become the letters.
SEARCH_COLUMN = (
    "ALTER TABLE tickets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', "
    "name || ' ' || company_name || ' ' || contact || ' ' || question || ' ' || "
    "CAST(jsonb_path_query_array(CAST(transcript AS JSONB), '$[*].text') AS TEXT))) STORED"
)
ACTIVE = "status IN ('open', 'in_progress', 'waiting_on_user')"
POSTGRESQL_INDEXES = (
    "CREATE INDEX ix_tickets_search ON tickets USING gin (search_vector)",
    f"CREATE INDEX ix_tickets_active_search ON tickets USING gin (search_vector) WHERE {ACTIVE}",
    # The queue filtered by suggested category (desk.services.queue.primary_topic), active tickets by SLA.
    "CREATE INDEX ix_tickets_active_topic_sla_due_at ON tickets "
    f"((suggested_topics #>> '{{0, topic}}'), sla_due_at, id) WHERE {ACTIVE}",
)


revision = '0004'
down_revision = '0007'
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
        batch_op.create_index('ix_tickets_sla_due_at', ['sla_due_at', 'id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEARCH_COLUMN)
        for statement in POSTGRESQL_INDEXES:
            op.execute(statement)



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index in ("ix_tickets_active_topic_sla_due_at", "ix_tickets_active_search", "ix_tickets_search"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
        op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS search_vector")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_sla_due_at')
        batch_op.drop_index('ix_tickets_created_at')
        batch_op.drop_index('ix_tickets_active_sla_due_at', postgresql_where=sa.text("status IN ('open', 'in_progress', 'waiting_on_user')"), sqlite_where=sa.text("status IN ('open', 'in_progress', 'waiting_on_user')"))

    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_canned_replies_active_language')

    op.drop_table('canned_replies')
