-- Harvest sources, jobs, the records each source last delivered, and what each job did.
CREATE TABLE source (
    id                  serial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]*$'),
    department          text NOT NULL,                 -- CKAN organisation name
    kind                text NOT NULL CHECK (kind IN ('services', 'statistics')),
    format              text NOT NULL,
    location            text NOT NULL,                 -- http(s) URL or local path
    schedule            text,                          -- cron expression; NULL = manual only
    credentials_ref     text,                          -- name of an env var / secret file, never the secret
    mapping             jsonb NOT NULL DEFAULT '{}',   -- source column -> schema field
    withdraw_threshold  real NOT NULL DEFAULT 0.2 CHECK (withdraw_threshold BETWEEN 0 AND 1),
    enabled             boolean NOT NULL DEFAULT true,
    last_etag           text,                          -- HTTP validators of the last good fetch
    last_modified       text,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job (
    id              serial PRIMARY KEY,
    source_id       integer NOT NULL REFERENCES source (id),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'done', 'failed', 'held')),
    queued_at       timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    heartbeat_at    timestamptz,
    time_limit_s    integer NOT NULL DEFAULT 3600,
    error           text,
    counts          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX job_source_idx ON job (source_id, id DESC);
-- at most one unfinished job per source: a second "run" joins the first
CREATE UNIQUE INDEX job_one_open_per_source ON job (source_id) WHERE status IN ('queued', 'running');

CREATE TABLE record (
    source_id         integer NOT NULL REFERENCES source (id),
    source_record_id  text NOT NULL,
    content_hash      text NOT NULL,
    dataset_name      text NOT NULL,
    content           jsonb NOT NULL,                 -- the normalised record last loaded
    state             text NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'withdrawn')),
    last_job_id       integer REFERENCES job (id),
    PRIMARY KEY (source_id, source_record_id)
);

CREATE TABLE job_outcome (
    job_id            integer NOT NULL REFERENCES job (id),
    source_record_id  text NOT NULL,
    outcome           text NOT NULL CHECK (outcome IN ('new', 'changed', 'withdrawn', 'rejected', 'held')),
    changes           jsonb,                          -- [{field, old, new}] for changed
    errors            jsonb,                          -- {field: [reason]} for rejected
    PRIMARY KEY (job_id, source_record_id)
);
