-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:78fe70262b69fbe257272093983955d4a4142962e255f3a2b2d441740f0ff030

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- anything at all
DO $$ BEGIN EXECUTE 'DROP TABLE sales.orders'; END $$;
