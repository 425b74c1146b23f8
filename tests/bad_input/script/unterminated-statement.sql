-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:61c9dfe18e395e859af533bb2239d924a450d5a6aea4f0262235e97ad4ae5297

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- schema_usage sales (direct)
GRANT USAGE ON SCHEMA sales TO auditor
