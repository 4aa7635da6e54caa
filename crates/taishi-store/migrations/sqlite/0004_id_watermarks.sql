-- Registry ids are never reused. Without AUTOINCREMENT, SQLite would hand out max(id)+1 again after the
-- row with the largest id was deleted, and the audit log — which names entities by id — would then mix
-- two entities under one id. Each table's highest id ever allocated is kept here and advanced in the
-- same transaction that allocates (sql::orgs::alloc_ids). Starting points: the largest id stored, or
-- named in the audit log (ids deleted before this migration), whichever is larger.
-- PostgreSQL needs nothing: its identity sequences never go back.

CREATE TABLE id_watermarks (
    tbl TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);

INSERT INTO id_watermarks (tbl, last_id)
SELECT t.tbl, max(
    COALESCE(CASE t.tbl
        WHEN 'orgs' THEN (SELECT MAX(id) FROM orgs)
        WHEN 'assets' THEN (SELECT MAX(id) FROM assets)
        WHEN 'software' THEN (SELECT MAX(id) FROM software)
        WHEN 'users' THEN (SELECT MAX(id) FROM users)
        WHEN 'api_tokens' THEN (SELECT MAX(id) FROM api_tokens)
    END, 0),
    COALESCE((SELECT MAX(CAST(a.entity_id AS INTEGER)) FROM audit_log a WHERE a.entity_type = t.entity), 0)
)
FROM (
    SELECT 'orgs' AS tbl, 'org' AS entity
    UNION ALL SELECT 'assets', 'asset'
    UNION ALL SELECT 'software', 'software'
    UNION ALL SELECT 'users', 'user'
    UNION ALL SELECT 'api_tokens', 'token'
) t;
