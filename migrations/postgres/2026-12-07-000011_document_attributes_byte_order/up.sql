-- The indexes of 000010 were built in the database's collation, in which PostgreSQL cannot read
-- a prefix (`department sw "dept-1"`, LIKE 'dept-1%') from a B-tree unless it is "C": such a
-- filter read the whole tenant (3.5 s at a million users). Document values are now compared
-- byte by byte, as the folded columns are and as SQLite compares (`lower(x) COLLATE "C"`; the
-- folding itself is unchanged), and indexed on that expression.
-- The indexes of 000010 go at once, against the expand-then-contract rule: they are only
-- indexes, so processes of the previous release still running give the same answers, reading
-- a tenant to find them, while the rollout lasts. Kept, they would cost every write of a user
-- two more index entries, and mislead the planner of the new expressions (it takes them for
-- as good as the new ones on a small table).
DROP INDEX users_employee_number;
DROP INDEX users_department;
CREATE INDEX users_employee_number_bytes ON users (tenant_id,
    (lower((data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}')) COLLATE "C"),
    created, id)
    WHERE (data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}') IS NOT NULL;
CREATE INDEX users_department_bytes ON users (tenant_id,
    (lower((data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}')) COLLATE "C"),
    created, id)
    WHERE (data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}') IS NOT NULL;
