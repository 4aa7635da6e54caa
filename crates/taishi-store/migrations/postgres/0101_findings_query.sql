-- Findings at scale (taishi-loop, H2): columns and indexes so that finding lists filter, sort, page and
-- count in SQL, and the dashboard's figures are GROUP BY queries, never loading every finding.
--   sev_rank   severity as a number (info 0 … critical 4): sorting and "worst first" keyset pages
--   closed_at  when a finding that is not open was last closed (end of its last open span): the
--              per-day "closed" trend
--   search     lower-cased title, check and key, one per line: the text filter is a substring match
--              (`search LIKE '%…%'`), a scan of the rows the other filters leave. pg_trgm was not used:
--              it is an extension the database owner must allow, and the other filters (subtree,
--              status) already narrow the scan.
ALTER TABLE loop_findings ADD COLUMN sev_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE loop_findings ADD COLUMN closed_at BIGINT;
ALTER TABLE loop_findings ADD COLUMN search TEXT NOT NULL DEFAULT '';

UPDATE loop_findings SET
    sev_rank = CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                             WHEN 'low' THEN 1 ELSE 0 END,
    search = lower(coalesce((doc::jsonb)->>'title', '') || E'\n' || check_id || E'\n'
                   || coalesce((doc::jsonb)->>'key', '')),
    -- the last span's end (trailing digits, before an optional '!' marker)
    closed_at = CASE WHEN status = 'open' THEN NULL
                     ELSE substring(spans from '([0-9]+)!?$')::bigint END;

-- keyset orders (status is nearly always filtered): newest sighting, oldest first, worst first
CREATE INDEX loop_findings_status_last ON loop_findings(status, last_seen, id);
CREATE INDEX loop_findings_status_first ON loop_findings(status, first_seen, id);
CREATE INDEX loop_findings_status_sev ON loop_findings(status, sev_rank, last_seen, id);
-- covering index of the open-findings aggregates (by severity, riskiest orgs)
CREATE INDEX loop_findings_status_org ON loop_findings(status, org_id, sev_rank);
CREATE INDEX loop_findings_asset ON loop_findings(asset_id, last_seen);
CREATE INDEX loop_findings_source ON loop_findings(source, status, last_seen);
CREATE INDEX loop_findings_check ON loop_findings(check_id);
-- per-day trends
CREATE INDEX loop_findings_first_seen ON loop_findings(first_seen, org_id);
CREATE INDEX loop_findings_closed_at ON loop_findings(closed_at, org_id);
-- overdue count
CREATE INDEX loop_notices_state_due ON loop_notices(state, rectify_due, org_id);
