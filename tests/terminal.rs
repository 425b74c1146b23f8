//! What pgsr shows people at a terminal: colour (`--color`, `NO_COLOR`),
//! shell completions and manual pages generated from the argument
//! definitions. None of it needs a server.

use pgsr_e2e::{pgsr_bin, workspace_root};
use std::process::Command;

fn pgsr(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(pgsr_bin());
    cmd.args(args)
        .current_dir(workspace_root())
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run pgsr");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PLAN: [&str; 5] = [
    "plan",
    "--snapshot",
    "fixtures/warehouse/snapshot.json",
    "-f",
    "fixtures/warehouse/analysts.yaml",
];

#[test]
fn colour_only_when_asked_or_at_a_terminal() {
    let (code, piped, _) = pgsr(&PLAN, &[]);
    assert_eq!(code, 0);
    assert!(!piped.contains('\x1b'), "auto colours nothing into a pipe");
    let (_, never, _) = pgsr(&[&["--color", "never"][..], &PLAN].concat(), &[]);
    assert_eq!(never, piped);
    let (_, always, _) = pgsr(
        &[&["--color", "always"][..], &PLAN].concat(),
        &[("NO_COLOR", "1")],
    );
    assert!(always.contains("\x1b[2m-- pgsr plan\x1b[0m\n"), "{always}");
    // Colour only wraps lines: without it, the same script.
    let stripped: String = always
        .replace("\x1b[0m", "")
        .replace("\x1b[2m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[1;33m", "")
        .replace("\x1b[1;35m", "");
    assert_eq!(stripped, piped);
    // `-o` never writes colour into the file.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("change.sql");
    let (code, _, _) = pgsr(
        &[
            &["--color", "always"][..],
            &PLAN,
            &["-o", out.to_str().unwrap()],
        ]
        .concat(),
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), piped);
    // Errors: the prefix in red when asked, plain otherwise.
    let (code, _, err) = pgsr(&["--color", "always", "show", "/nonexistent.sql"], &[]);
    assert_eq!(code, 1);
    assert!(err.starts_with("\x1b[1;31mpgsr: error:\x1b[0m "), "{err:?}");
    let (_, _, err) = pgsr(&["show", "/nonexistent.sql"], &[]);
    assert!(err.starts_with("pgsr: error: "), "{err:?}");
    let (code, _, err) = pgsr(&["--color", "sometimes", "show", "x"], &[]);
    assert_eq!(code, 64, "a usage error: {err}");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = pgsr(&["completions", shell], &[]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in [
            "inspect",
            "plan",
            "apply",
            "sync",
            "inventory",
            "all-databases",
        ] {
            assert!(out.contains(word), "{shell} completions lack {word}");
        }
    }
    let (_, bash, _) = pgsr(&["completions", "bash"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("pgsr.bash");
    std::fs::write(&script, bash).unwrap();
    let ok = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .expect("run bash");
    assert!(ok.success(), "the bash completions do not parse");
}

#[test]
fn manual_pages_from_the_arguments() {
    let (code, page, _) = pgsr(&["man"], &[]);
    assert_eq!(code, 0);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "a roff page");
    assert!(page.contains(".TH pgsr 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = pgsr(&["man", "--dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let plan = std::fs::read_to_string(dir.path().join("pgsr-plan.1")).expect("pgsr-plan.1");
    assert!(plan.contains(".TH pgsr-plan 1"), "{plan}");
    assert!(
        plan.contains("\\-\\-exit\\-code"),
        "every flag is documented: {plan}"
    );
    for command in ["inspect", "apply", "sync", "show", "inventory", "generate"] {
        assert!(
            dir.path().join(format!("pgsr-{command}.1")).is_file(),
            "{command}"
        );
    }
}

/// `command` run on a pseudo-terminal (util-linux `script`): what the
/// terminal shows.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let line = std::iter::once(pgsr_bin().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(workspace_root())
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script (util-linux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn auto_colours_a_terminal_unless_no_color() {
    let shown = on_a_terminal(&PLAN, &[]);
    assert!(shown.contains("\x1b[2m-- pgsr plan\x1b[0m"), "{shown:?}");
    let plain = on_a_terminal(&PLAN, &[("NO_COLOR", "1")]);
    assert!(
        plain.contains("-- pgsr plan") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    let never = on_a_terminal(&[&["--color", "never"][..], &PLAN].concat(), &[]);
    assert!(!never.contains('\x1b'), "{never:?}");
    let error = on_a_terminal(&["show", "/nonexistent.sql"], &[]);
    assert!(error.contains("\x1b[1;31mpgsr: error:\x1b[0m"), "{error:?}");
}
