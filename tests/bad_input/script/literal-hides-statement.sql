-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:a867b3a6d4a037ae56c53b014d0d9ba8e1def474315f88fd688af5a2b94c479a

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- auditor: login
ALTER ROLE auditor WITH LOGIN PASSWORD 'x\'; DROP TABLE sales.orders; --';
