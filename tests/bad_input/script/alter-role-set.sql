-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:aa6f345a2341df9d71415f1b15df8bb55bf507aa91dcef2605f3a7b8cea7c5de

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- auditor: search path
ALTER ROLE auditor SET search_path = evil, public;
