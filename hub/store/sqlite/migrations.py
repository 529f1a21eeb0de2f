"""Versioned schema migrations for the SQLite store, tracked in PRAGMA user_version."""

from __future__ import annotations

import sqlite3

# Each entry upgrades the schema from version i to i+1. Never edit a released entry: append.
MIGRATIONS: tuple[str, ...] = (
    # 1: the backbone
    """
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT,
        attributes TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        merged_into TEXT
    );
    CREATE INDEX customers_live ON customers(created_at DESC, id DESC) WHERE merged_into IS NULL;

    CREATE TABLE identities (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        kind TEXT NOT NULL,
        address TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (kind, address)
    );
    CREATE INDEX identities_customer ON identities(customer_id);
    CREATE INDEX identities_address ON identities(address);

    CREATE TABLE teams (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );

    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        password_hash TEXT,
        created_at INTEGER NOT NULL
    );

    CREATE TABLE agent_teams (
        agent_id TEXT NOT NULL REFERENCES agents(id),
        team_id TEXT NOT NULL REFERENCES teams(id),
        PRIMARY KEY (agent_id, team_id)
    );

    CREATE TABLE inboxes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        channel TEXT NOT NULL,
        team_id TEXT REFERENCES teams(id),
        config TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL
    );

    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        inbox_id TEXT NOT NULL REFERENCES inboxes(id),
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        assignee_id TEXT,
        team_id TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        subject TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_message_at INTEGER NOT NULL,
        first_response_at INTEGER,
        resolved_at INTEGER,
        snoozed_until INTEGER,
        unread_count INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conv_recent ON conversations(last_message_at DESC, id DESC);
    CREATE INDEX conv_assignee ON conversations(assignee_id, last_message_at DESC, id DESC);
    CREATE INDEX conv_status ON conversations(status, last_message_at DESC, id DESC);
    CREATE INDEX conv_inbox ON conversations(inbox_id, last_message_at DESC, id DESC);
    -- ingest looks up the customer's latest conversation per inbox: equality on both, then
    -- order, so SQLite never walks a whole inbox newest-first (16 ms at 100k conversations)
    CREATE INDEX conv_customer ON conversations(customer_id, inbox_id, last_message_at DESC, id DESC);
    CREATE INDEX conv_snoozed ON conversations(snoozed_until) WHERE status = 'snoozed';

    CREATE TABLE conversation_tags (
        tag TEXT NOT NULL,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        PRIMARY KEY (tag, conversation_id)
    ) WITHOUT ROWID;

    -- seq is the stable integer key FTS5 points at: an implicit rowid may be renumbered
    -- by VACUUM when the primary key is TEXT, which would silently break search
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        customer_id TEXT NOT NULL,
        direction TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        text TEXT,
        html TEXT,
        attachments TEXT NOT NULL DEFAULT '[]',
        provider_id TEXT,
        thread_key TEXT,
        sender TEXT,
        author_id TEXT,
        delivery_status TEXT NOT NULL,
        error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE UNIQUE INDEX messages_provider ON messages(channel, provider_id)
        WHERE provider_id IS NOT NULL;
    CREATE INDEX messages_conversation ON messages(conversation_id, created_at DESC, id DESC);
    CREATE INDEX messages_thread ON messages(thread_key) WHERE thread_key IS NOT NULL;
    CREATE INDEX messages_customer ON messages(customer_id);

    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='seq', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text)
            SELECT 'delete', old.seq, old.text WHERE old.text IS NOT NULL;
        INSERT INTO messages_fts(rowid, text) SELECT new.seq, new.text WHERE new.text IS NOT NULL;
    END;

    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES messages(id),
        conversation_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        provider_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

    CREATE TABLE merges (
        id TEXT PRIMARY KEY,
        kept_id TEXT NOT NULL,
        merged_id TEXT NOT NULL,
        actor_id TEXT,
        created_at INTEGER NOT NULL,
        undone_at INTEGER,
        snapshot TEXT NOT NULL
    );
    CREATE INDEX merges_kept ON merges(kept_id);
    CREATE INDEX merges_merged ON merges(merged_id);

    CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
    );
    CREATE INDEX api_tokens_agent ON api_tokens(agent_id);
    """,  # noqa: E501 (a released entry: its SQL text stays as shipped)
    # 2: browser sessions and canned responses
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        csrf_secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_agent ON sessions(agent_id);
    CREATE INDEX sessions_expiry ON sessions(expires_at);

    CREATE TABLE canned_responses (
        id TEXT PRIMARY KEY,
        shortcut TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    """,
    # 3: search indexing moves off the ingest path. A trigger inserting each message into
    # FTS5 cost ~35 µs per message; one INSERT ... SELECT over a backlog costs ~3 µs per
    # message (search_index.py drains it moments after the commit, and before any search).
    # Rows already in the backlog are not in messages_fts, so delete/update skip them there.
    """
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_delete;
    DROP TRIGGER messages_fts_update;
    CREATE TABLE fts_backlog (seq INTEGER PRIMARY KEY);
    CREATE TRIGGER messages_fts_backlog AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
        INSERT INTO fts_backlog(seq) VALUES (new.seq);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text)
            SELECT 'delete', old.seq, old.text
            WHERE NOT EXISTS (SELECT 1 FROM fts_backlog WHERE seq = old.seq);
        DELETE FROM fts_backlog WHERE seq = old.seq;
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text)
            SELECT 'delete', old.seq, old.text
            WHERE old.text IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM fts_backlog WHERE seq = old.seq);
        INSERT INTO fts_backlog(seq) SELECT new.seq
            WHERE new.text IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM fts_backlog WHERE seq = new.seq);
        DELETE FROM fts_backlog WHERE seq = new.seq AND new.text IS NULL;
    END;
    """,
    # 4: API tokens may expire (NULL: never)
    """
    ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
    """,
    # 5: idempotency keys scoped to their caller. A claim's key is derived from the caller and
    # the client's key; replies and notes share this one namespace, and the fingerprint (the
    # conversation and body) tells a replay from a key reused for another request. Outbox
    # rows keep their own key column: rows from before keep their plain keys and still send.
    """
    CREATE TABLE message_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
)

LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database file."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every pending migration, each in its own transaction; returns the new version."""
    version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"database schema version {version} is newer than this hub ({LATEST}); upgrade the hub"
        )
    for target in range(version + 1, LATEST + 1):
        # executescript commits first; wrap each step so a failure leaves the old version intact
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version = {target};\nCOMMIT;"
        )
    return current_version(conn)
