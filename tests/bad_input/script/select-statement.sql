-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:0faf2d5f1f592a463313d53b9c69145eed0dee29cb8bda713daceaa2d246d9e1

-- stop other sessions
SELECT pg_terminate_backend(pid) FROM pg_stat_activity;

-- auditor: managed role does not exist
CREATE ROLE auditor;
