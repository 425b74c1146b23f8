-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 3 (create-role 1, grant 2)
-- checksum: sha256:f3908571fedd11884dd4287fedd6ab89acd1003b5c57f15fe77c8d0cc57cff3a

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- schema_usage sales (direct)
GRANT USAGE ON SCHEMA sales TO auditor;
