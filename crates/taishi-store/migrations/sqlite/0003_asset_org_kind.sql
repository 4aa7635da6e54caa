-- Assets by owner and kind: "assets of this subtree of this kind" (the console's figures, `within=` with
-- `kind=`) reads only matching index entries instead of every asset of each org. The new index also
-- serves every lookup by owner alone, so it replaces assets_org.
CREATE INDEX assets_org_kind ON assets(org_id, kind);
DROP INDEX assets_org;
