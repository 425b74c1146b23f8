-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (grant 1)
-- checksum: sha256:7ee024de75f44c675667cbf1a08748ca5207db27796c89b522ce1d544711d1d3

-- connect for everyone
GRANT CONNECT ON DATABASE warehouse TO PUBLIC;
