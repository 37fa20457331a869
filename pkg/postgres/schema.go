package postgres

// migrations[i] upgrades the schema from version i to i+1. Open applies the
// pending ones in one transaction holding pg_advisory_xact_lock(migrationLock),
// after re-reading schema_migrations under that lock, so processes that start
// together against a fresh database apply each migration exactly once. Never
// edit a released migration; append a new one.
//
// Design notes (docs/postgres.md has the long form):
//   - embedding is an untyped `vector`, so vectors of different models and
//     dimensions coexist; model and dims stamp each one. HNSW indexes need a
//     fixed dimension, so each (model, dims) pair gets its own partial
//     expression index, created on demand (see ensureIndex) as
//     USING hnsw ((embedding::vector(D)) vector_cosine_ops) WHERE model = … AND dims = D.
//   - tsv uses mnemo_english: PostgreSQL's 'english' configuration (Snowball
//     stemming, so "deploying" finds "Deploy") with unaccent in front of the
//     stemmer for non-ASCII words (so "cafe" finds "Café"). That matches the
//     SQLite store's porter + remove_diacritics tokenizer, so both stores
//     answer keyword queries alike. 'simple' would keep stop words and
//     find no inflections. to_tsvector(regconfig, text) is immutable, as a
//     generated column requires. Its stop words carry no ranking signal.
//   - times are timestamptz; the stores keep millisecond precision
//     (memory.Prepare rounds), so values round-trip exactly.
var migrations = []string{
	// 1: memories with tags, metadata, author, stamped vectors and full text.
	`
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS unaccent; -- contrib; trusted since PostgreSQL 13

CREATE TEXT SEARCH CONFIGURATION mnemo_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION mnemo_english
	ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem;

CREATE TABLE memories (
	id           text        PRIMARY KEY,              -- ULID
	content      text        NOT NULL,
	content_hash text        NOT NULL,                 -- hex sha256 of content
	project      text        NOT NULL,
	tags         text[]      NOT NULL DEFAULT '{}',    -- normalised: lower-case, unique, sorted
	metadata     jsonb       NOT NULL DEFAULT '{}',
	source       text        NOT NULL,
	author       text        NOT NULL DEFAULT '',      -- user@host
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL,
	accessed_at  timestamptz NOT NULL,
	embedding    vector,                               -- L2-normalised; NULL until embedded
	model        text        NOT NULL DEFAULT '',      -- model id that made embedding ('' when none)
	dims         integer     NOT NULL DEFAULT 0,
	tsv          tsvector    GENERATED ALWAYS AS (to_tsvector('mnemo_english', content)) STORED,
	UNIQUE (project, content_hash),                    -- exact dedup, race-safe
	CHECK ((embedding IS NULL) = (dims = 0)),
	CHECK (embedding IS NULL OR vector_dims(embedding) = dims)
);
CREATE INDEX memories_created ON memories (created_at DESC, id DESC);
CREATE INDEX memories_project_created ON memories (project, created_at DESC, id DESC);
CREATE INDEX memories_model ON memories (model, dims);
CREATE INDEX memories_tags ON memories USING gin (tags);
CREATE INDEX memories_tsv ON memories USING gin (tsv);

-- One row per (model, dims) whose HNSW index exists, so a process learns
-- about indexes others created with one cheap read.
CREATE TABLE vector_indexes (
	model      text        NOT NULL,
	dims       integer     NOT NULL,
	index_name text        NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (model, dims)
);
`,
	// 2: versions, pinning and use (as SQLite's migration 3). Existing rows
	// keep their values and get the defaults: current, unpinned, unused.
	`
ALTER TABLE memories ADD COLUMN supersedes    text[]  NOT NULL DEFAULT '{}';
ALTER TABLE memories ADD COLUMN superseded_by text    NOT NULL DEFAULT '';
ALTER TABLE memories ADD COLUMN pinned        boolean NOT NULL DEFAULT false;
ALTER TABLE memories ADD COLUMN recall_count  integer NOT NULL DEFAULT 0;
CREATE INDEX memories_superseded_by ON memories (superseded_by) WHERE superseded_by <> '';
CREATE INDEX memories_pinned ON memories (created_at) WHERE pinned;
`,
}

// SchemaVersion is the schema version this build creates and understands.
const SchemaVersion = 2

// migrationLock is the pg_advisory_xact_lock key that serialises schema
// set-up ("mnemo" in ASCII, then 1).
const migrationLock int64 = 0x6d6e656d6f_0001

// indexLockSpace is the first key of pg_advisory_xact_lock(int4, int4) that
// serialises creating one HNSW index; the second is a hash of (model, dims).
// The two-key form has its own key space, apart from migrationLock.
const indexLockSpace int32 = 0x6d6e656d // "mnem"

func init() {
	if len(migrations) != SchemaVersion {
		panic("postgres: SchemaVersion does not match the migrations")
	}
}
