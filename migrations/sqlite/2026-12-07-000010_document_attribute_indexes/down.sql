DELETE FROM sqlite_stat1 WHERE idx IN ('users_employee_number', 'users_department');
DROP INDEX users_department;
DROP INDEX users_employee_number;
