-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:5b3f1a99a21c66bc2c1d46f83df6b59c660d3ad4f24f0796332ffd69b0896173

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- shell
\! touch /tmp/pgsr-bad-input-owned
