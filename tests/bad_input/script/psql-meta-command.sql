-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:5dd6df34654b2c9e79ab04be8e79931f7b4eb44cbbe42b7e0f5e3f7ee83b706e

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- shell
\! touch /tmp/pgsr-bad-input-owned
