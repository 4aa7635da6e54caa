-- Registry: org tree (materialised path), assets, software, users, sessions, API tokens, audit log.
-- Times are unix milliseconds (INTEGER); JSON is TEXT; booleans are 0/1.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES orgs(id),
    -- ids from the root down to this org, '/1/5/23/'; a subtree is the range [path, path-with-last-'/'-as-'0')
    path TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    sector TEXT NOT NULL,
    region_code TEXT,
    critical_infrastructure INTEGER NOT NULL DEFAULT 0,
    contacts TEXT NOT NULL DEFAULT '{}',
    notes TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX orgs_code ON orgs(code);
CREATE UNIQUE INDEX orgs_path ON orgs(path);
CREATE INDEX orgs_parent ON orgs(parent_id);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    identity TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    mlps_level INTEGER CHECK (mlps_level BETWEEN 1 AND 5),
    critical_infrastructure INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- network identities are unique across the registry; a system name is unique within its org
CREATE UNIQUE INDEX assets_net_key ON assets(kind, identity) WHERE kind <> 'system';
CREATE UNIQUE INDEX assets_sys_key ON assets(org_id, identity) WHERE kind = 'system';
CREATE INDEX assets_org ON assets(org_id);

CREATE TABLE software (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    cpe TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX software_asset ON software(asset_id);
CREATE INDEX software_product ON software(product);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    -- no foreign key: the entry outlives the org
    org_id INTEGER,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_entity ON audit_log(entity_type, entity_id);
CREATE INDEX audit_org ON audit_log(org_id);
CREATE INDEX audit_at ON audit_log(at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
