-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:c71523a76434c9f1b13c18abc34d3673e5381ee41fc9016311c1e8268d5a58e1

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- auditor: login
ALTER ROLE auditor WITH LOGIN VALID UNTIL $$2030-01-01$$;
