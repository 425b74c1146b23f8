-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 31 (create-role 5, alter-role 1, alter-owner 1, grant 5, revoke 12, default-privileges 2, grant-role 4, revoke-role 1)
-- checksum: sha256:bb15ef5930114fa7d7030eb008113f2b0cca1d5f6be93d42b8f66098236c03fb

-- intermediate role for CONNECT on database warehouse
CREATE ROLE _pgsr_global_database_connect_218f53a4;

-- intermediate role for USAGE on schema sales
CREATE ROLE _pgsr_local_16384_schema_usage_7c9322c4;

-- intermediate role for SELECT on table sales.fact_costs
CREATE ROLE _pgsr_local_16384_table_select_15f7ec2f;

-- intermediate role for SELECT on table sales.fact_revenue
CREATE ROLE _pgsr_local_16384_table_select_f020e979;

-- intermediate role for SELECT on view sales.orders_view
CREATE ROLE _pgsr_local_16384_table_select_68891e93;

-- legacy: ownership of table reporting.summary not declared; it goes to postgres
ALTER TABLE reporting.summary OWNER TO postgres;

-- analysts: default privilege not declared
ALTER DEFAULT PRIVILEGES FOR ROLE etl IN SCHEMA ingest REVOKE SELECT ON TABLES FROM analysts;

-- analysts: not declared
REVOKE USAGE ON SCHEMA sales FROM analysts;

-- analysts: not declared
REVOKE SELECT ON TABLE sales.orders FROM analysts;

-- legacy: default privilege not declared
ALTER DEFAULT PRIVILEGES FOR ROLE etl REVOKE SELECT ON TABLES FROM legacy;

-- legacy: not declared
REVOKE CREATE ON DATABASE warehouse FROM legacy;

-- legacy: not declared
REVOKE USAGE ON FOREIGN SERVER dummy_srv FROM legacy;

-- legacy: not declared
REVOKE EXECUTE ON FUNCTION sales.total(integer) FROM legacy;

-- legacy: not declared
REVOKE USAGE ON LANGUAGE plpgsql FROM legacy;

-- legacy: not declared
REVOKE SELECT ON LARGE OBJECT 424242 FROM legacy;

-- legacy: not declared
REVOKE SET ON PARAMETER work_mem FROM legacy;

-- legacy: not declared
REVOKE USAGE ON SEQUENCE sales.orders_id_seq FROM legacy;

-- legacy: not declared
REVOKE INSERT ON TABLE sales.orders FROM legacy;

-- legacy: not declared
REVOKE SELECT (email) ON TABLE sales.customers FROM legacy;

-- legacy: not declared
REVOKE USAGE ON TYPE sales.status FROM legacy;

-- intermediate role for CONNECT on database warehouse
GRANT CONNECT ON DATABASE warehouse TO _pgsr_global_database_connect_218f53a4;

-- intermediate role for SELECT on table sales.fact_costs
GRANT SELECT ON TABLE sales.fact_costs TO _pgsr_local_16384_table_select_15f7ec2f;

-- intermediate role for SELECT on table sales.fact_revenue
GRANT SELECT ON TABLE sales.fact_revenue TO _pgsr_local_16384_table_select_f020e979;

-- intermediate role for SELECT on view sales.orders_view
GRANT SELECT ON TABLE sales.orders_view TO _pgsr_local_16384_table_select_68891e93;

-- intermediate role for USAGE on schema sales
GRANT USAGE ON SCHEMA sales TO _pgsr_local_16384_schema_usage_7c9322c4;

-- database_connect warehouse
GRANT _pgsr_global_database_connect_218f53a4 TO alice, bob;

-- schema_usage sales
GRANT _pgsr_local_16384_schema_usage_7c9322c4 TO analysts;

-- table_select sales /^fact_/
GRANT _pgsr_local_16384_table_select_15f7ec2f, _pgsr_local_16384_table_select_f020e979 TO analysts;

-- table_select sales.orders_view
GRANT _pgsr_local_16384_table_select_68891e93 TO analysts;

-- legacy: membership of etl not declared
REVOKE etl FROM legacy;

-- legacy: SUPERUSER, CREATEDB, CREATEROLE, REPLICATION and BYPASSRLS are never declared
ALTER ROLE legacy WITH NOCREATEDB;
