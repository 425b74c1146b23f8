-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:70a0e0db60d68e3630334e2fcd1b1545e6accd20558aa2ff0bd0216737b97c8b

-- become the owner
SET ROLE postgres;

-- auditor: managed role does not exist
CREATE ROLE auditor;
