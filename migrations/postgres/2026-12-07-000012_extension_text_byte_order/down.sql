-- Back to the database's collation.
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
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE TEXT COLLATE "default"',
            c.table_name, c.column_name);
    END LOOP;
END
$$;
