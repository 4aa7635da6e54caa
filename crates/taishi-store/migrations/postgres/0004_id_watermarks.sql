-- Registry ids are never reused. On SQLite this migration adds the id_watermarks table that
-- sql::orgs::alloc_ids advances; PostgreSQL's identity sequences never go back, so there is nothing to
-- do here. The file exists so both backends list the same migrations.
SELECT 1;
