-- Conversations, their message tree, attachments and full-text search.
-- Times are Unix milliseconds. Migrations are only ever added, never edited.

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    title            TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    pinned           INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    model            TEXT,
    -- JSON: {"system_prompt": ..., "sampling": {...}}
    settings         TEXT    NOT NULL DEFAULT '{}',
    -- The leaf of the branch shown; NULL while the conversation is empty.
    current_leaf_id  INTEGER,
    -- Soft delete: set when deleted, cleared by undo, purged later.
    deleted_at       INTEGER
);

-- The list's order (live ones, pinned first, newest first), so listing reads only what it shows.
CREATE INDEX conversations_by_recency ON conversations (deleted_at, pinned DESC, updated_at DESC, id DESC);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The message this one answers or follows; siblings share a parent (branches).
    parent_id         INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    role              TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content           TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('streaming', 'done', 'stopped', 'interrupted', 'error')),
    error             TEXT,
    model             TEXT,
    ttft_ms           REAL,
    prefill_tps       REAL,
    decode_tps        REAL,
    prompt_tokens     INTEGER,
    generated_tokens  INTEGER,
    reused_tokens     INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
-- Children of a message in order (branches, sibling counts, cascades); first messages apart,
-- since a NULL parent says nothing about the conversation.
CREATE INDEX messages_by_parent ON messages (parent_id, id);
CREATE INDEX messages_roots ON messages (conversation_id, id) WHERE parent_id IS NULL;
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- The file is attachments/<sha256[0..2]>/<sha256> under the data directory.
    sha256       TEXT    NOT NULL,
    media_type   TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    duration_ms  INTEGER,
    name         TEXT,
    created_at   INTEGER NOT NULL
);

CREATE INDEX attachments_by_message ON attachments (message_id);
CREATE INDEX attachments_by_hash ON attachments (sha256);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
