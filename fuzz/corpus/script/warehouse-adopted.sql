-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 18 (create-role 5, alter-role 1, grant 5, revoke 2, default-privileges 1, grant-role 4)
-- checksum: sha256:fb523be22e58f865b99677229f5c48df7ca577a46547c8be292d02a560d81f30

-- intermediate role for CONNECT on database warehouse
CREATE ROLE _pgsr_global_database_connect_218f53a4;

-- intermediate role for USAGE on schema sales
CREATE ROLE _pgsr_local_16384_schema_usage_7c9322c4;

-- intermediate role for SELECT on table sales.fact_costs
CREATE ROLE _pgsr_local_16384_table_select_15f7ec2f;

-- intermediate role for SELECT on table sales.fact_revenue
CREATE ROLE _pgsr_local_16384_table_select_f020e979;

-- intermediate role for SELECT on table sales.orders
CREATE ROLE _pgsr_local_16384_table_select_84895d47;

-- analysts: default privilege not declared
ALTER DEFAULT PRIVILEGES FOR ROLE etl IN SCHEMA ingest REVOKE SELECT ON TABLES FROM analysts;

-- analysts: not declared
REVOKE USAGE ON SCHEMA sales FROM analysts;

-- analysts: not declared
REVOKE SELECT ON TABLE sales.orders FROM analysts;

-- intermediate role for CONNECT on database warehouse
GRANT CONNECT ON DATABASE warehouse TO _pgsr_global_database_connect_218f53a4;

-- intermediate role for SELECT on table sales.fact_costs
GRANT SELECT ON TABLE sales.fact_costs TO _pgsr_local_16384_table_select_15f7ec2f;

-- intermediate role for SELECT on table sales.fact_revenue
GRANT SELECT ON TABLE sales.fact_revenue TO _pgsr_local_16384_table_select_f020e979;

-- intermediate role for SELECT on table sales.orders
GRANT SELECT ON TABLE sales.orders TO _pgsr_local_16384_table_select_84895d47;

-- intermediate role for USAGE on schema sales
GRANT USAGE ON SCHEMA sales TO _pgsr_local_16384_schema_usage_7c9322c4;

-- database_connect warehouse
GRANT _pgsr_global_database_connect_218f53a4 TO alice;

-- schema_usage sales
GRANT _pgsr_local_16384_schema_usage_7c9322c4 TO alice, analysts;

-- table_select sales /fact_/
GRANT _pgsr_local_16384_table_select_15f7ec2f, _pgsr_local_16384_table_select_f020e979 TO analysts;

-- table_select sales.orders
GRANT _pgsr_local_16384_table_select_84895d47 TO alice;

-- alice: login
ALTER ROLE alice WITH VALID UNTIL 'infinity';
