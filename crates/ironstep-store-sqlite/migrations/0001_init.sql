-- ironstep schema, version 1.
--
-- Kept portable where it costs nothing: the PostgreSQL backend uses the same tables and columns
-- (INTEGER becomes BIGINT, the INTEGER PRIMARY KEY surrogates become identity columns, BLOB
-- becomes BYTEA). Times are epoch milliseconds. JSON documents (configurations, alias routing) are TEXT.
--
-- No FOREIGN KEY clauses: the writer thread is the only writer and deletes children before
-- parents itself, and enforcing them would add a parent lookup to every event insert.

CREATE TABLE state_machines (
    arn                      TEXT    NOT NULL PRIMARY KEY,
    name                     TEXT    NOT NULL,
    machine_type             TEXT    NOT NULL,
    definition               TEXT    NOT NULL,
    role_arn                 TEXT    NOT NULL,
    logging_configuration    TEXT,
    tracing_configuration    TEXT,
    encryption_configuration TEXT,
    creation_date            INTEGER NOT NULL,
    update_date              INTEGER NOT NULL,
    revision_id              TEXT    NOT NULL,
    status                   TEXT    NOT NULL,
    description              TEXT,
    next_version             INTEGER NOT NULL
);

CREATE TABLE versions (
    arn               TEXT    NOT NULL PRIMARY KEY,
    state_machine_arn TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    definition        TEXT    NOT NULL,
    role_arn          TEXT    NOT NULL,
    revision_id       TEXT    NOT NULL,
    description       TEXT,
    creation_date     INTEGER NOT NULL
);
CREATE INDEX versions_by_machine ON versions (state_machine_arn, version);

CREATE TABLE aliases (
    arn               TEXT    NOT NULL PRIMARY KEY,
    state_machine_arn TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT,
    -- JSON array of [version ARN, weight] pairs (at most two in AWS).
    routing           TEXT    NOT NULL,
    creation_date     INTEGER NOT NULL,
    update_date       INTEGER NOT NULL
);
CREATE INDEX aliases_by_machine ON aliases (state_machine_arn, name);

-- Tags of state machines and activities; `position` keeps the insertion order.
CREATE TABLE tags (
    resource_arn TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    tag_key      TEXT    NOT NULL,
    tag_value    TEXT    NOT NULL,
    PRIMARY KEY (resource_arn, position)
);

CREATE TABLE activities (
    arn                      TEXT    NOT NULL PRIMARY KEY,
    name                     TEXT    NOT NULL,
    creation_date            INTEGER NOT NULL,
    encryption_configuration TEXT
);

-- One row per execution, updated by every step. `id` is a surrogate key so that the events,
-- timers and dispatches tables carry an integer instead of a ~90-byte ARN in every row.
-- The large immutable texts (input, definition) live in execution_inputs: SQLite rewrites the
-- whole row on update, and a step must not rewrite a 1 MB definition.
CREATE TABLE executions (
    id                INTEGER NOT NULL PRIMARY KEY,
    arn               TEXT    NOT NULL UNIQUE,
    state_machine_arn TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    start_date        INTEGER NOT NULL,
    stop_date         INTEGER,
    version_arn       TEXT,
    alias_arn         TEXT,
    role_arn          TEXT    NOT NULL,
    trace_header      TEXT,
    parent_arn        TEXT,
    map_run_arn       TEXT,
    redrive_count     INTEGER NOT NULL,
    event_count       INTEGER NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    -- The interpreter snapshot while RUNNING (NULL once closed). Last, so that listing reads
    -- never touch its overflow pages.
    snapshot          BLOB
);
-- ListExecutions: newest first within a state machine (the index is scanned backwards; ties
-- on start_date fall back to id, i.e. start order).
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date);
-- Crash recovery (`running_executions`) and status filters.
CREATE INDEX executions_by_status ON executions (status);
CREATE INDEX executions_by_parent ON executions (parent_arn, start_date) WHERE parent_arn IS NOT NULL;
CREATE INDEX executions_by_map_run ON executions (map_run_arn, start_date) WHERE map_run_arn IS NOT NULL;
-- Retention: closed executions by stop date.
CREATE INDEX executions_closed ON executions (stop_date) WHERE stop_date IS NOT NULL;

CREATE TABLE execution_inputs (
    execution_id INTEGER NOT NULL PRIMARY KEY,
    input        TEXT    NOT NULL,
    definition   TEXT    NOT NULL
);

-- History, stored in commit order (`seq`, always appended at the end of the table) and found
-- through the (execution, event id) index, which also refuses an event written twice.
-- Measured against a WITHOUT ROWID table clustered on (execution_id, id) (benches/throughput.rs,
-- 2026-11, 32-128 writers, 23 events of ~200 bytes per step): clustering saves nothing when
-- every execution starts and ends in one commit, but when many running executions each append
-- a step the clustered table splits pages in its middle, moving whole 200-byte rows, and the
-- store used ~45 us of CPU per step instead of ~30. Large events (256 KB outputs) also fit a
-- rowid table better.
CREATE TABLE events (
    seq          INTEGER NOT NULL PRIMARY KEY,
    execution_id INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    json         TEXT    NOT NULL,
    UNIQUE (execution_id, id)
);

CREATE TABLE timers (
    execution_id INTEGER NOT NULL,
    timer_id     INTEGER NOT NULL,
    due          INTEGER NOT NULL,
    PRIMARY KEY (execution_id, timer_id)
);
CREATE INDEX timers_by_due ON timers (due);

-- The task-dispatch outbox: tasks handed out and not yet answered.
CREATE TABLE dispatches (
    execution_id INTEGER NOT NULL,
    task_id      INTEGER NOT NULL,
    payload      BLOB    NOT NULL,
    PRIMARY KEY (execution_id, task_id)
);
