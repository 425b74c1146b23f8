-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (grant-role 1)
-- checksum: sha256:c3d326a2e3ca9790c8394fdcd3861c88465d48fcb362f1728a68fd4ae9a21038

-- membership
GRANT analysts -- x TO alice; DROP TABLE sales.orders; GRANT analysts
 TO alice;
