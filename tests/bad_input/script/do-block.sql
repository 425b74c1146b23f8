-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 2 (create-role 1, grant 1)
-- checksum: sha256:76a00648481934de8bb4b4b0dde1ef825dad1c8310b992a504bd829da0cbc5d2

-- auditor: managed role does not exist
CREATE ROLE auditor;

-- anything at all
DO $$ BEGIN EXECUTE 'DROP TABLE sales.orders'; END $$;
