//! `pgsr inspect` against real clusters.

use pgsr_e2e::{pg_test, Pg};

pg_test!(fn smoke(pg) {
    let out = pg.pgsr("postgres", "postgres", &["inspect"]).expect_code(0);
    assert!(out.stdout.contains("\"format_version\": 1"));
});
