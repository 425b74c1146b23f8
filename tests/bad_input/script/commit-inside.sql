-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 3 (create-role 1, grant 1)
-- checksum: sha256:d558d4eb2d866188885294059dcf98213bfd519851d497f78a39b216afdade7a

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- end the transaction early
COMMIT;

-- schema_usage sales (direct)
GRANT USAGE ON SCHEMA sales TO auditor;
