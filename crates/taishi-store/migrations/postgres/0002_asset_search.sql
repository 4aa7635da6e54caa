-- Asset search through indexes instead of table scans.
--
-- pg_trgm GIN indexes on lower(identity) and lower(name): `lower(col) LIKE '%text%'` of 3 or more
-- characters is answered from the index (shorter patterns still work, by scan). The extension is
-- installed once per database (in `public` when missing); the indexes name its operator class by the
-- schema it actually lives in, so stores in other schemas (OpenOptions::pg_schema) share it.
--
-- asset_tags: one row per (asset, tag), the tag trimmed and lower-cased, so the tag filter is an exact
-- indexed lookup instead of a LIKE over the JSON text. Kept by a trigger from `assets.tags` (any write
-- path — create, update, import — and deletes through the foreign key), backfilled here.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

DO $$
DECLARE
    ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX assets_identity_trgm ON assets USING gin (lower(identity) %I.gin_trgm_ops)', ext_schema);
    EXECUTE format('CREATE INDEX assets_name_trgm ON assets USING gin (lower(name) %I.gin_trgm_ops)', ext_schema);
END
$$;

CREATE TABLE asset_tags (
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (asset_id, tag)
);
CREATE INDEX asset_tags_tag ON asset_tags(tag, asset_id);

INSERT INTO asset_tags (asset_id, tag)
    SELECT DISTINCT a.id, lower(btrim(t.value))
    FROM assets a, json_array_elements_text(a.tags::json) AS t(value)
    WHERE btrim(t.value) <> '';

CREATE FUNCTION assets_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM asset_tags WHERE asset_id = OLD.id;
    END IF;
    INSERT INTO asset_tags (asset_id, tag)
        SELECT DISTINCT NEW.id, lower(btrim(t.value))
        FROM json_array_elements_text(NEW.tags::json) AS t(value)
        WHERE btrim(t.value) <> '';
    RETURN NULL;
END
$$;
CREATE TRIGGER assets_tags_ai AFTER INSERT ON assets FOR EACH ROW EXECUTE FUNCTION assets_tags_sync();
CREATE TRIGGER assets_tags_au AFTER UPDATE OF tags ON assets FOR EACH ROW EXECUTE FUNCTION assets_tags_sync();
