-- Text columns of extension tables compare byte by byte (`COLLATE "C"`), as the folded name
-- columns do since 000005 and as SQLite compares: in the database's collation (`C.UTF-8` here)
-- PostgreSQL reads no LIKE prefix from a B-tree, so `costCenter sw "cc-01"` read the whole
-- extension table (290 ms at a million users). New tables get such columns when they are made
-- (`scim_store::extensions`); this brings the existing ones there, rebuilding the indexes on
-- them. Values and uniqueness do not change; only the order of a sort by such an attribute may,
-- where the database's collation was not byte order already.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema()
            AND table_name ~ '^ext_[0-9a-f]{16}(_c[0-9]+)?$'
            AND data_type = 'text'
            AND column_name NOT IN ('tenant_id', 'id', 'created')
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE TEXT COLLATE "C"',
            c.table_name, c.column_name);
    END LOOP;
END
$$;
