-- The closed loop (taishi-loop): findings, notices, rectifications and attachments, the delivery log,
-- metric inputs, computed scores and archived bulletins. Ids of loop entities are UUID text.
-- Times are unix milliseconds; documents are JSON text holding the whole entity with its history,
-- beside the columns queries filter on. No foreign keys to the registry: findings and notices outlive
-- registry edits and are kept for past periods' scores.

CREATE TABLE loop_findings (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    check_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    -- open spans for scoring: 'start-end,start-' in ms, oldest first
    spans TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX loop_findings_org ON loop_findings(org_id, status);
CREATE INDEX loop_findings_last_seen ON loop_findings(last_seen);

CREATE TABLE loop_notice_seq (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE loop_notices (
    id TEXT PRIMARY KEY,
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    issued_at BIGINT,
    rectify_due BIGINT,
    closed_at BIGINT,
    -- failed verifications, 'ms,ms'
    returned_at TEXT NOT NULL DEFAULT '',
    doc TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX loop_notices_org ON loop_notices(org_id);
CREATE INDEX loop_notices_state ON loop_notices(state);

CREATE TABLE loop_rectifications (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES loop_notices(id),
    submitted_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX loop_rectifications_notice ON loop_rectifications(notice_id);

CREATE TABLE loop_attachments (
    id TEXT PRIMARY KEY,
    rectification_id TEXT NOT NULL REFERENCES loop_rectifications(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- base64 of the content (size-limited by policy)
    data TEXT NOT NULL
);

CREATE TABLE loop_deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    error TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX loop_deliveries_notice ON loop_deliveries(notice_id, at);

CREATE TABLE loop_metrics (
    org_id BIGINT NOT NULL,
    period TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (period, org_id, key)
);

CREATE TABLE loop_scores (
    period TEXT NOT NULL,
    org_id BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (period, org_id)
);

CREATE TABLE loop_bulletins (
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL,
    period TEXT NOT NULL,
    format TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX loop_bulletins_org ON loop_bulletins(org_id, created_at);
