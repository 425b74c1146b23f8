-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:0220af3b1a16d92e40c420bf24dfae05efbb8134fa452f1345482dd147bac08e

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- everything
GRANT SELECT ON ALL TABLES IN SCHEMA sales TO auditor;
