-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (create-role 1)
-- checksum: sha256:36da91847a4b59a7341c3a85faedca0ca9897d90b927e44b72ba1210e807c9a2

-- auditor: managed role does not exist
CREATE ROLE auditor SUPERUSER;
