-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:3e981bada34d540cebe80c0d0a251a383894e49c09cd63ddd6e3d0251a55df51
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 9 (create-role 2, alter-role 1, create-schema 1, grant 2, revoke 1, grant-role 2)
-- skipped: analysts: table_ownership sales.orders: table sales.orders does not exist
-- skipped: analysts: table_select sales.orders: table sales.orders does not exist
-- checksum: sha256:e9b6406a5a1e73f1330a71d484b436f4ac48002462e021e1b5b6da5673962bfb

-- intermediate role for CONNECT on database warehouse
CREATE ROLE _pgsr_global_database_connect_218f53a4;

-- intermediate role for USAGE on schema sales
CREATE ROLE _pgsr_local_16384_schema_usage_7c9322c4;

-- analysts: schema_ownership scratch: schema does not exist
CREATE SCHEMA scratch AUTHORIZATION analysts;

-- analysts: not declared
REVOKE USAGE ON SCHEMA sales FROM analysts;

-- intermediate role for CONNECT on database warehouse
GRANT CONNECT ON DATABASE warehouse TO _pgsr_global_database_connect_218f53a4;

-- intermediate role for USAGE on schema sales
GRANT USAGE ON SCHEMA sales TO _pgsr_local_16384_schema_usage_7c9322c4;

-- database_connect warehouse
GRANT _pgsr_global_database_connect_218f53a4 TO alice;

-- schema_usage sales
GRANT _pgsr_local_16384_schema_usage_7c9322c4 TO analysts;

-- alice: login
ALTER ROLE alice WITH PASSWORD 'SCRAM-SHA-256$4096:+oE6i15qlVEQINgkvxvK/g==$kNbHas/U/mZMNDtp8tLC0kv0DtMKuWLL9VU1MOE5STU=:D+UhWvtvt27Sa0LdvAzr4+O5RjYzM/5nUwvnt9wystI=' VALID UNTIL '2026-12-20T00:00:00.000000Z';
