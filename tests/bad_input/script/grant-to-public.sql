-- pgsr plan
-- format: 2
-- server-version: 150018
-- database: "warehouse" (oid 16384)
-- connecting-role: "postgres"
-- snapshot-fingerprint: sha256:a69a8be0ebba3787e245e2118fc9880ae034edb19620edb7bbe2bcae6dfe4d04
-- scope: {"kind":"full"}
-- lock-key: 1
-- statements: 1 (grant-role 1)
-- checksum: sha256:d182146b3be9e90ba22490e6f4bdacf94a36847f76346b2635ce8666d97fdcc7

-- everyone an analyst
GRANT analysts TO PUBLIC;
