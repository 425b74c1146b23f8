-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 3 (create-role 1, grant 1)
-- checksum: sha256:e769dae4dd924d598c0ea26687feff71898a8db6871edd8e8aa008242d25ca47

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- end the transaction early
COMMIT;

-- schema_usage sales (direct)
GRANT USAGE ON SCHEMA sales TO auditor;
