-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (create-role 1)
-- checksum: sha256:831e60d428eafd2d7ac58ec1c43400d9706149361a7335bd4dcadf1720c645b6

-- evil"; DROP TABLE sales.orders; --: managed role does not exist
CREATE ROLE "evil"; DROP TABLE sales.orders; --";
