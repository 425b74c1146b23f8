//! What a plan says in words: likely mistakes in a desired file
//! (`warning` lines), `--strict` on missing roles, and why a role loses
//! LOGIN.

mod support;

use pgsr_planner::plan::{plan, render, Plan, PlanOptions};
use pgsr_planner::snapshot::Snapshot;
use support::mini::{desired, snapshot};

const PG15: u32 = 150018;

fn plan_with(s: &Snapshot, yaml: &str, options: &PlanOptions) -> Plan {
    plan(s, &desired(yaml), options).unwrap_or_else(|e| panic!("planning failed: {e}"))
}

fn at(now: &str) -> PlanOptions {
    PlanOptions {
        now: Some(now.to_owned()),
        ..PlanOptions::default()
    }
}

#[test]
fn a_membership_target_differing_only_by_case_is_a_warning() {
    let s = snapshot(PG15, "postgres", true, &["alice", "analysts"]);
    let p = plan_with(
        &s,
        "roles:\n  - name: alice\n    grants:\n      - role_membership: Analysts\n",
        &PlanOptions::default(),
    );
    assert_eq!(
        p.warnings,
        vec![
            "role_membership target \"Analysts\" does not exist and would be created, but role \"analysts\" does: did you mean \"analysts\"? (role names are case-sensitive)"
        ]
    );
    let script = render(&p);
    assert!(
        script.contains("\n-- warning: role_membership target \"Analysts\" does not exist"),
        "{script}"
    );
    // The script with a warning line reads back.
    pgsr_planner::script::parse(&script).expect("a plan with warnings parses");
}

#[test]
fn a_managed_role_differing_only_by_case_is_a_warning() {
    let s = snapshot(PG15, "postgres", true, &["alice"]);
    let p = plan_with(&s, "roles:\n  - name: Alice\n", &PlanOptions::default());
    assert_eq!(
        p.warnings,
        vec![
            "managed role \"Alice\" does not exist and would be created, but role \"alice\" does: did you mean \"alice\"? (role names are case-sensitive)"
        ]
    );
    // Exactly the same name, or no look-alike: no warning.
    let p = plan_with(
        &s,
        "roles:\n  - name: alice\n  - name: bob\n",
        &PlanOptions::default(),
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn strict_refuses_a_missing_membership_target() {
    let s = snapshot(PG15, "postgres", true, &["alice", "analysts"]);
    let strict = PlanOptions {
        strict: true,
        ..PlanOptions::default()
    };
    let yaml = "roles:\n  - name: alice\n    grants:\n      - role_membership: analysst\n";
    let e = plan(&s, &desired(yaml), &strict).expect_err("--strict refuses it");
    assert_eq!(
        e.to_string(),
        "4:9: alice: role_membership analysst: role analysst does not exist (--strict)"
    );
    let yaml = "roles:\n  - name: alice\n    grants:\n      - role_membership: Analysts\n";
    let e = plan(&s, &desired(yaml), &strict).expect_err("--strict refuses it");
    assert_eq!(
        e.to_string(),
        "4:9: alice: role_membership Analysts: role Analysts does not exist (--strict); did you mean \"analysts\"?"
    );
    // A target that is managed, or exists, is fine; without --strict a
    // missing one is created, as pg-sync-roles does.
    let yaml = "roles:\n  - name: alice\n    grants:\n      - role_membership: analysts\n      - role_membership: team\n  - name: team\n";
    plan(&s, &desired(yaml), &strict).expect("plans");
    let yaml = "roles:\n  - name: alice\n    grants:\n      - role_membership: analysst\n";
    let p = plan_with(&s, yaml, &PlanOptions::default());
    assert!(render(&p).contains("\nCREATE ROLE analysst;\n"));
}

#[test]
fn a_valid_until_in_the_past_is_a_warning() {
    let s = snapshot(PG15, "postgres", true, &["alice"]);
    let yaml = |when: &str| {
        format!(
            "roles:\n  - name: alice\n    grants:\n      - login: {{ valid_until: {when:?} }}\n"
        )
    };
    let now = "2026-06-01T12:00:00.000000Z";
    let warning = "alice: valid_until 2026-06-01T11:59:59.000000Z is in the past: alice could not log in after this sync";
    let p = plan_with(&s, &yaml("2026-06-01T11:59:59Z"), &at(now));
    assert_eq!(p.warnings, vec![warning]);
    assert!(render(&p).contains(&format!("\n-- warning: {warning}\n")));
    // An offset is compared in UTC: 13:59:59+02:00 is 11:59:59Z.
    let p = plan_with(&s, &yaml("2026-06-01T13:59:59+02:00"), &at(now));
    assert_eq!(p.warnings, vec![warning]);
    // The future, infinity, and a plan made without a clock: no warning.
    for (when, options) in [
        ("2026-06-01T12:00:01Z", at(now)),
        ("infinity", at(now)),
        ("2001-01-01T00:00:00Z", PlanOptions::default()),
    ] {
        let p = plan_with(&s, &yaml(when), &options);
        assert!(p.warnings.is_empty(), "{when}: {:?}", p.warnings);
    }
}

#[test]
fn a_role_that_loses_login_is_said_to_in_words() {
    let mut s = snapshot(PG15, "postgres", true, &["alice"]);
    s.catalog
        .roles
        .iter_mut()
        .find(|r| r.name == "alice")
        .unwrap()
        .canlogin = true;
    s.canonicalize();
    let p = plan_with(&s, "roles:\n  - name: alice\n", &PlanOptions::default());
    let script = render(&p);
    assert!(
        script.contains(
            "\n-- alice: no login declared: alice loses LOGIN and its password\nALTER ROLE alice WITH NOLOGIN PASSWORD NULL;\n"
        ),
        "{script}"
    );
}
