-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:99a62f82c4677b3c5e4e07663db6db394b8adf6dcbb3e7a87c4f6b707e55123d

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- auditor: login
ALTER ROLE auditor WITH LOGIN VALID UNTIL $$2030-01-01$$;
