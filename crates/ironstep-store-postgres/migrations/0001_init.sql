-- ironstep schema for PostgreSQL, version 1.
--
-- The same tables and columns as the SQLite backend (INTEGER is BIGINT, BLOB is BYTEA, the
-- surrogate keys are identity columns), plus what several nodes need to share the work:
-- leases on executions and timers, an inbox of inputs for executions another node runs, the
-- activity hand-out state of dispatch rows, and the nodes themselves. Times are epoch
-- milliseconds; lease times are the database's clock (so nodes' clocks may differ), timer due
-- times are the engine's clock, as on SQLite.
--
-- Portable SQL where it costs nothing (CockroachDB later): no stored procedures, no triggers,
-- no PostgreSQL types beyond BYTEA. `FOR UPDATE SKIP LOCKED`, `unnest` of arrays and
-- `pg_notify` are the PostgreSQL-specific parts, each in one place of the code.

CREATE TABLE state_machines (
    arn                      TEXT    NOT NULL PRIMARY KEY,
    name                     TEXT    NOT NULL,
    machine_type             TEXT    NOT NULL,
    definition               TEXT    NOT NULL,
    role_arn                 TEXT    NOT NULL,
    logging_configuration    TEXT,
    tracing_configuration    TEXT,
    encryption_configuration TEXT,
    creation_date            BIGINT  NOT NULL,
    update_date              BIGINT  NOT NULL,
    revision_id              TEXT    NOT NULL,
    status                   TEXT    NOT NULL,
    description              TEXT,
    next_version             BIGINT  NOT NULL
);

CREATE TABLE versions (
    arn               TEXT    NOT NULL PRIMARY KEY,
    state_machine_arn TEXT    NOT NULL,
    version           BIGINT  NOT NULL,
    definition        TEXT    NOT NULL,
    role_arn          TEXT    NOT NULL,
    revision_id       TEXT    NOT NULL,
    description       TEXT,
    creation_date     BIGINT  NOT NULL
);
CREATE INDEX versions_by_machine ON versions (state_machine_arn, version);

CREATE TABLE aliases (
    arn               TEXT    NOT NULL PRIMARY KEY,
    state_machine_arn TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT,
    routing           TEXT    NOT NULL,
    creation_date     BIGINT  NOT NULL,
    update_date       BIGINT  NOT NULL
);
CREATE INDEX aliases_by_machine ON aliases (state_machine_arn, name);

CREATE TABLE tags (
    resource_arn TEXT    NOT NULL,
    position     BIGINT  NOT NULL,
    tag_key      TEXT    NOT NULL,
    tag_value    TEXT    NOT NULL,
    PRIMARY KEY (resource_arn, position)
);

CREATE TABLE activities (
    arn                      TEXT    NOT NULL PRIMARY KEY,
    name                     TEXT    NOT NULL,
    creation_date            BIGINT  NOT NULL,
    encryption_configuration TEXT
);

-- One row per execution. `owner`/`epoch`/`lease_until` are the lease: the node that runs the
-- execution in memory, a counter raised by every acquisition (a commit names the epoch it
-- holds and fails once another node took over), and when the lease expires unless renewed.
CREATE TABLE executions (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arn               TEXT    NOT NULL UNIQUE,
    state_machine_arn TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    start_date        BIGINT  NOT NULL,
    stop_date         BIGINT,
    version_arn       TEXT,
    alias_arn         TEXT,
    role_arn          TEXT    NOT NULL,
    trace_header      TEXT,
    parent_arn        TEXT,
    map_run_arn       TEXT,
    redrive_count     BIGINT  NOT NULL,
    event_count       BIGINT  NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    redrive_date      BIGINT,
    owner             TEXT,
    epoch             BIGINT  NOT NULL DEFAULT 0,
    lease_until       BIGINT,
    snapshot          BYTEA
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, id);
CREATE INDEX executions_by_status ON executions (status);
CREATE INDEX executions_by_parent ON executions (parent_arn, start_date) WHERE parent_arn IS NOT NULL;
CREATE INDEX executions_by_map_run ON executions (map_run_arn, start_date) WHERE map_run_arn IS NOT NULL;
CREATE INDEX executions_closed ON executions (stop_date) WHERE stop_date IS NOT NULL;
-- Leased executions (few: those running tasks somewhere). `lease_until` is left out of the key
-- so that renewing a lease does not rewrite the index.
CREATE INDEX executions_owned ON executions (owner) WHERE owner IS NOT NULL;

CREATE TABLE execution_inputs (
    execution_id BIGINT NOT NULL PRIMARY KEY,
    input        TEXT   NOT NULL,
    definition   TEXT   NOT NULL
);

CREATE TABLE events (
    execution_id BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    json         TEXT   NOT NULL,
    PRIMARY KEY (execution_id, id)
);

-- Timers are owned by the node that set them (it fires them from memory) until shortly after
-- they are due; then any node may claim them.
CREATE TABLE timers (
    execution_id BIGINT NOT NULL,
    timer_id     BIGINT NOT NULL,
    due          BIGINT NOT NULL,
    owner        TEXT,
    lease_until  BIGINT,
    PRIMARY KEY (execution_id, timer_id)
);
CREATE INDEX timers_by_due ON timers (due);

-- The task-dispatch outbox. An activity task also waits here for a worker: `activity_arn` is
-- set when it is offered and `handed_out` once a worker took it (exactly once, on any node).
CREATE TABLE dispatches (
    execution_id BIGINT  NOT NULL,
    task_id      BIGINT  NOT NULL,
    payload      BYTEA   NOT NULL,
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY,
    activity_arn TEXT,
    handed_out   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (execution_id, task_id)
);
CREATE INDEX dispatches_offered ON dispatches (activity_arn, seq) WHERE activity_arn IS NOT NULL AND NOT handed_out;

-- Inputs for an execution that another node holds (task results, stops, heartbeats...). The
-- holder applies them in order, deleting each in the transaction of the step it caused.
CREATE TABLE inbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id BIGINT NOT NULL,
    input        BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX inbox_by_execution ON inbox (execution_id, id);

-- The nodes sharing this database, with their heartbeat and latest metrics.
CREATE TABLE nodes (
    id           TEXT   NOT NULL PRIMARY KEY,
    address      TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    metrics      TEXT   NOT NULL
);
