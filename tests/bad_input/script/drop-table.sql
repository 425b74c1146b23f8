-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:79328e7d33741ebf0646ceead391bb2e8758af4cbe14d58f375f273e1825f749

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- schema_usage sales (direct)
DROP TABLE sales.orders;
