DROP STATISTICS IF EXISTS users_department_values;
DROP STATISTICS IF EXISTS users_employee_number_values;
DROP INDEX users_department_bytes;
DROP INDEX users_employee_number_bytes;
DROP FUNCTION scim_folded(TEXT, TEXT[]);
CREATE INDEX users_employee_number ON users (tenant_id,
    lower((data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}')),
    created, id)
    WHERE (data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","employeeNumber"}') IS NOT NULL;
CREATE INDEX users_department ON users (tenant_id,
    lower((data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}')),
    created, id)
    WHERE (data::jsonb #>> '{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","department"}') IS NOT NULL;
