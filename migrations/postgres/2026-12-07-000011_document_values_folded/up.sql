-- Folded document values on PostgreSQL, as the filters and sorts of `sql_filter` write them
-- and as the indexes of employeeNumber and department hold them.
--
-- Byte order (`COLLATE "C"`, as the folded name columns since 000005 and as SQLite compares):
-- in the database's collation (`C.UTF-8` here) PostgreSQL reads no LIKE prefix or range from a
-- B-tree, so `department sw "dept-1"` read the whole tenant (3.5 s at a million users).
--
-- A function of known cost: the documents are text, and reading one value parses the whole
-- document (10 us a row), which the planner prices like an addition. Once it knew how many
-- users a prefix holds, it counted the 110,000 of `department sw "dept-1"` by parsing every
-- document of the tenant (9.8 s) rather than through the index (0.25 s). PL/pgSQL, because a
-- SQL function would be inlined and its cost forgotten.
CREATE FUNCTION scim_folded(doc TEXT, path TEXT[]) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
    AS $$ BEGIN RETURN lower(doc::jsonb #>> path); END $$;

CREATE INDEX users_employee_number_bytes ON users (tenant_id,
    (scim_folded(data, '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}') COLLATE "C"),
    created, id)
    WHERE (data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}') IS NOT NULL;
CREATE INDEX users_department_bytes ON users (tenant_id,
    (scim_folded(data, '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}') COLLATE "C"),
    created, id)
    WHERE (data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}') IS NOT NULL;

-- PostgreSQL takes no statistics from a partial index, so it guessed how many users a prefix
-- holds (half a percent of them) and walked the tenant in creation order looking for ten
-- matches of a prefix that had none: `department sw "zzz"` took 12.6 s at a million users.
-- Statistics on the expressions themselves (PostgreSQL 14 and later) tell it, once ANALYZE
-- has read them (ANALYZE itself blocks nothing, but the indexes built above keep writes out
-- until the migration commits: 20-30 s more at a million users).
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE $s$CREATE STATISTICS users_employee_number_values ON
            (scim_folded(data, '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}') COLLATE "C")
            FROM users$s$;
        EXECUTE $s$CREATE STATISTICS users_department_values ON
            (scim_folded(data, '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}') COLLATE "C")
            FROM users$s$;
    END IF;
END
$$;
ANALYZE users;

-- The indexes of 000010 go at once, against the expand-then-contract rule: they are only
-- indexes, so processes of the previous release still running give the same answers, reading
-- a tenant to find them, while the rollout lasts. Kept, they would cost every write of a user
-- two more index entries for nothing. Dropped last: a dropped index locks the table against
-- reads too until the migration commits, where building one locks out only writes.
DROP INDEX users_employee_number;
DROP INDEX users_department;
