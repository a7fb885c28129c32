DROP INDEX users_department;
DROP INDEX users_employee_number;
