-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (grant-role 1)
-- checksum: sha256:5eedfa443a9262dca4971c4954ec59d9da91e5ab56c8a5c4f0aff77b6bbbab78

-- membership
GRANT analysts -- x TO alice; DROP TABLE sales.orders; GRANT analysts
 TO alice;
