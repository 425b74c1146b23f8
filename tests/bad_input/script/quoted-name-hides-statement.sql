-- pgsr plan
-- format: 1
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (create-role 1)
-- checksum: sha256:a57525774bbf1506bea74861d009a795c7f2ebb507b697c08bbf1be059aee328

-- evil"; DROP TABLE sales.orders; --: managed role does not exist
CREATE ROLE "evil"; DROP TABLE sales.orders; --";
