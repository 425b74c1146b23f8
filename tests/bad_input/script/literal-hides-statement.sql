-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:3dfe01b65cc98f353668eb1de708076df61705a3be983db5285843d273961774

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- auditor: login
ALTER ROLE auditor WITH LOGIN PASSWORD 'x\'; DROP TABLE sales.orders; --';
