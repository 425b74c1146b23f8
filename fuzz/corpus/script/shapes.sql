-- pgsr plan
-- format: 1
-- server-version: 180001
-- database: "wh \"x\"" (oid 5)
-- connecting-role: "admin"
-- snapshot-fingerprint: sha256:0000000000000000000000000000000000000000000000000000000000000000
-- scope: {"kind":"partial","roles":["a"],"databases":["wh"],"schemas":["s"],"relations":[{"schema":"s","name":"t"}],"regex_schemas":["s"]}
-- lock-key: -42
-- statements: 12 (create-role 1, alter-role 1, drop-role 1, create-schema 1, alter-owner 2, grant 2, revoke 1, default-privileges 1, grant-role 1, revoke-role 1)
-- skipped: a: table_select s.gone: table s.gone does not exist
-- note: a note
-- checksum: sha256:7039d0d9aed76d3d1d550d44ec37aba329c1d8ec9ee43bd690018be9f67dba5d

-- one of each shape
CREATE ROLE "semi;colon" NOLOGIN;

ALTER ROLE r WITH LOGIN NOSUPERUSER PASSWORD 'it''s' VALID UNTIL 'infinity' CONNECTION LIMIT -1;

DROP ROLE IF EXISTS _pgsr_old, "a""b";

CREATE SCHEMA IF NOT EXISTS scratch AUTHORIZATION a;

ALTER FUNCTION public.f(integer, VARIADIC b text[]) OWNER TO postgres;

ALTER MATERIALIZED VIEW s."My View" OWNER TO postgres;

GRANT SELECT (a, "B"), UPDATE ON TABLE s.t TO a WITH GRANT OPTION GRANTED BY owner;

GRANT SELECT ON LARGE OBJECT 16384, 16385 TO a;

REVOKE GRANT OPTION FOR ALL PRIVILEGES ON SCHEMA s FROM a CASCADE;

ALTER DEFAULT PRIVILEGES FOR ROLE etl IN SCHEMA s GRANT SELECT ON TABLES TO a;

GRANT "analysts" TO a WITH INHERIT TRUE, SET FALSE GRANTED BY postgres;

REVOKE ADMIN OPTION FOR analysts FROM a /* ; not a statement */;
