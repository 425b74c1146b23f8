//! The secrets the CLI reads: the plan key, and passwords named by plans.

use crate::cli::KeyArgs;
use crate::exit::{Failure, Result};
use pgsr_planner::desired::{resolve_password, Desired, Secret};
use pgsr_planner::plan::PasswordSlot;
use std::io::Read;
use std::path::Path;

/// A key shorter than this is too easy to guess.
const MIN_KEY_BYTES: usize = 16;

/// A secret file larger than this is the wrong file, or a device such as
/// `/dev/zero` that would be read until memory runs out.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// The plan key: `--plan-key-file`, else `PGSR_PLAN_KEY`, else none.
pub fn plan_key(args: &KeyArgs) -> Result<Option<Vec<u8>>> {
    let (key, from) = match &args.plan_key_file {
        Some(path) => (
            read_secret_file(path).map_err(|e| {
                Failure::new(format!("cannot read the plan key {}: {e}", path.display()))
            })?,
            format!("the plan key file {}", path.display()),
        ),
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

/// A file holding one secret: at most [`MAX_SECRET_FILE_BYTES`], one
/// trailing newline removed.
fn read_secret_file(path: &Path) -> std::result::Result<String, String> {
    let text = read_capped(path)?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(text.to_owned())
}

/// Reads a password file for the planner's resolver (which removes the
/// trailing newline itself).
pub fn read_password_file(path: &str) -> std::result::Result<String, String> {
    read_capped(Path::new(path))
}

fn read_capped(path: &Path) -> std::result::Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(format!(
            "it is larger than {} KiB, which is not a password",
            MAX_SECRET_FILE_BYTES / 1024
        ));
    }
    Ok(text)
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
