-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (create-role 1)
-- checksum: sha256:434edd8d5c4943e1efc84d981b9051bcc1bea66be458ce51bbe3be6d710b22ec

-- auditor: managed role does not exist
CREATE ROLE auditor SUPERUSER;
