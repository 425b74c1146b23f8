-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (grant 1)
-- checksum: sha256:a04803a847380df387c596d1e0b07c3269018674da8e301e72fc34e850ceb1d4

-- connect for everyone
GRANT CONNECT ON DATABASE warehouse TO PUBLIC;
