CREATE ROLE auditor;
GRANT USAGE ON SCHEMA sales TO auditor;
