-- Asset search through indexes instead of table scans.
--
-- asset_search: an FTS5 trigram index over assets' identity and name (external content: the text stays in
-- `assets`, the index holds trigrams only). A query of 3 or more characters is a substring match through
-- it, case-insensitive; shorter queries fall back to LIKE. Kept by the triggers below, rebuilt here from
-- the rows already stored.
--
-- asset_tags: one row per (asset, tag), the tag trimmed and lower-cased, so the tag filter is an exact
-- indexed lookup instead of a LIKE over the JSON text. Kept by triggers from `assets.tags` (any write
-- path — create, update, import — and deletes through the foreign key), backfilled here.

CREATE VIRTUAL TABLE asset_search USING fts5(
    identity, name,
    content = 'assets', content_rowid = 'id',
    tokenize = 'trigram case_sensitive 0'
);
INSERT INTO asset_search(asset_search) VALUES ('rebuild');

CREATE TRIGGER assets_search_ai AFTER INSERT ON assets BEGIN
    INSERT INTO asset_search(rowid, identity, name) VALUES (NEW.id, NEW.identity, NEW.name);
END;
CREATE TRIGGER assets_search_ad AFTER DELETE ON assets BEGIN
    INSERT INTO asset_search(asset_search, rowid, identity, name)
        VALUES ('delete', OLD.id, OLD.identity, OLD.name);
END;
CREATE TRIGGER assets_search_au AFTER UPDATE OF identity, name ON assets BEGIN
    INSERT INTO asset_search(asset_search, rowid, identity, name)
        VALUES ('delete', OLD.id, OLD.identity, OLD.name);
    INSERT INTO asset_search(rowid, identity, name) VALUES (NEW.id, NEW.identity, NEW.name);
END;

CREATE TABLE asset_tags (
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (asset_id, tag)
) WITHOUT ROWID;
CREATE INDEX asset_tags_tag ON asset_tags(tag, asset_id);

INSERT INTO asset_tags (asset_id, tag)
    SELECT DISTINCT a.id, lower(trim(t.value))
    FROM assets a, json_each(a.tags) t
    WHERE trim(t.value) <> '';

CREATE TRIGGER assets_tags_ai AFTER INSERT ON assets BEGIN
    INSERT INTO asset_tags (asset_id, tag)
        SELECT DISTINCT NEW.id, lower(trim(value)) FROM json_each(NEW.tags) WHERE trim(value) <> '';
END;
CREATE TRIGGER assets_tags_au AFTER UPDATE OF tags ON assets BEGIN
    DELETE FROM asset_tags WHERE asset_id = OLD.id;
    INSERT INTO asset_tags (asset_id, tag)
        SELECT DISTINCT NEW.id, lower(trim(value)) FROM json_each(NEW.tags) WHERE trim(value) <> '';
END;
