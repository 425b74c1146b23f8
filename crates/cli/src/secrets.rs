//! The secrets the CLI reads: the plan key, and passwords named by plans.

use crate::cli::KeyArgs;
use crate::exit::{Failure, Result};
use crate::files::{read_text, PASSWORD_FILE, PLAN_KEY_FILE};
use pgsr_planner::desired::{resolve_password, Desired, Secret};
use pgsr_planner::plan::PasswordSlot;
use std::path::Path;

/// A key shorter than this is too easy to guess.
const MIN_KEY_BYTES: usize = 16;

/// The plan key: `--plan-key-file`, else `PGSR_PLAN_KEY`, else none.
pub fn plan_key(args: &KeyArgs) -> Result<Option<Vec<u8>>> {
    let (key, from) = match &args.plan_key_file {
        Some(path) => {
            let text = read_text(path, &PLAN_KEY_FILE).map_err(|e| {
                Failure::new(format!("cannot read the plan key {}: {e}", path.display()))
            })?;
            let key = text
                .strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text)
                .to_owned();
            (key, format!("the plan key file {}", path.display()))
        }
        None => match std::env::var_os("PGSR_PLAN_KEY") {
            Some(v) => (
                v.into_string()
                    .map_err(|_| Failure::new("PGSR_PLAN_KEY is not UTF-8"))?,
                "PGSR_PLAN_KEY".to_owned(),
            ),
            None => return Ok(None),
        },
    };
    if key.len() < MIN_KEY_BYTES {
        return Err(Failure::new(format!(
            "{from} holds {} bytes; a plan key needs at least {MIN_KEY_BYTES} (for example `openssl rand -hex 32`)",
            key.len()
        )));
    }
    Ok(Some(key.into_bytes()))
}

/// Reads a password file for the planner's resolver (which removes the
/// trailing newline itself).
pub fn read_password_file(path: &str) -> std::result::Result<String, String> {
    read_text(Path::new(path), &PASSWORD_FILE)
}

/// Reads the password a plan names, from this process's environment and
/// files, and from `desired` for the desired file's literal passwords.
pub fn password(
    desired: Option<&Desired>,
) -> impl Fn(&PasswordSlot) -> std::result::Result<Secret, String> + '_ {
    move |slot| {
        resolve_password(
            &slot.role,
            &slot.source,
            desired,
            |name| std::env::var(name).ok(),
            read_password_file,
        )
    }
}
