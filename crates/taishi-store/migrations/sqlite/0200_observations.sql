-- Observations (taishi-monitor, the 0200+ "monitor" range): one row per probe check run, written by the
-- scheduler in batches and pruned after the configured retention. `up` and `latency_ms` are filled for
-- availability runs that completed (1/0 and milliseconds) and NULL for every other run, so availability
-- figures aggregate in SQL without reading the JSON. No foreign keys to the registry, like the loop's
-- tables: past periods keep their figures when assets move or go.

CREATE TABLE observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    target TEXT NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    duration_ms INTEGER NOT NULL,
    observation TEXT NOT NULL,
    error TEXT,
    findings INTEGER NOT NULL,
    up INTEGER CHECK (up IN (0, 1)),
    latency_ms INTEGER
);
CREATE INDEX observations_asset_check_at ON observations(asset_id, check_id, at);
CREATE INDEX observations_at ON observations(at);
-- an asset's page of observations, newest first
CREATE INDEX observations_asset_id ON observations(asset_id, id);
