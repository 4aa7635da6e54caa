-- Run-time settings saved by administrators (the loop's deadline policy, the indicator system, the
-- notification channels): one text document per key, with its redacted form (what the audit log and
-- pages show) and who saved it when. A stored setting overrides the configuration file.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    shown TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
