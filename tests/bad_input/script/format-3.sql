-- pgsr plan
-- format: 3
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:cfea48d50a7e42d349d39e7f0925d72d51dfba9e2af9b645995790aef2b1da76

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- schema_usage sales (direct)
GRANT USAGE ON SCHEMA sales TO auditor;
