-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:77f0f5e82504279e1c23b609cbd27325649b4f98d223ebd61de1037b1b2a19f0

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- auditor: search path
ALTER ROLE auditor SET search_path = evil, public;
