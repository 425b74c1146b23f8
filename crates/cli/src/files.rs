//! Files: inputs are read whole but bounded, and remembered; an output
//! never replaces an input and is created readable by its owner only.

use crate::exit::{Failure, Result};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The most an input may hold: more is the wrong file, or a device such as
/// `/dev/zero` that would be read until memory runs out.
pub struct Limit {
    bytes: u64,
    what: &'static str,
}

/// The largest desired file, or document of `sync --stdin-batch`.
pub const DESIRED_FILE_BYTES: u64 = 16 << 20;

/// A desired file: 16 MiB holds well over 100,000 roles, and takes about
/// 330 MB of memory to parse.
pub const DESIRED_FILE: Limit = Limit {
    bytes: DESIRED_FILE_BYTES,
    what: "a desired file",
};

/// A snapshot: one of a catalog of 100,000 tables is 90 MiB.
pub const SNAPSHOT: Limit = Limit {
    bytes: 1 << 30,
    what: "a snapshot",
};

/// A plan script: the plan that grants on 100,000 tables is 4 MiB.
pub const SCRIPT: Limit = Limit {
    bytes: 256 << 20,
    what: "a plan",
};

pub const PASSWORD_FILE: Limit = Limit {
    bytes: 64 << 10,
    what: "a password file",
};

pub const PLAN_KEY_FILE: Limit = Limit {
    bytes: 64 << 10,
    what: "a plan key file",
};

/// The device and inode of every file this run read.
static INPUTS: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// Remembers a file this run names without reading it (a password file a
/// plan names): `-o` must not replace it either. A file that does not
/// exist is nothing to protect.
pub fn remember(path: &Path) {
    if let Ok(metadata) = std::fs::metadata(path) {
        INPUTS
            .lock()
            .expect("no thread panics holding it")
            .push((metadata.dev(), metadata.ino()));
    }
}

/// Reads the file at `path`, of at most `limit` bytes. The error says why,
/// without the path.
pub fn read_input(path: &Path, limit: &Limit) -> std::result::Result<Vec<u8>, String> {
    if path == Path::new("-") {
        // Standard input, as `-f -` asks.
        return read_limited(std::io::stdin().lock(), 0, limit);
    }
    let file = File::open(path).map_err(|e| e.to_string())?;
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    INPUTS
        .lock()
        .expect("no thread panics holding it")
        .push((metadata.dev(), metadata.ino()));
    read_limited(file, metadata.len(), limit)
}

/// At most `limit` bytes of `input` (`expected` of them, for the buffer).
fn read_limited(
    input: impl Read,
    expected: u64,
    limit: &Limit,
) -> std::result::Result<Vec<u8>, String> {
    let capacity = expected.min(limit.bytes + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    input
        .take(limit.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit.bytes {
        return Err(format!(
            "it is larger than {}, the limit for {}",
            size(limit.bytes),
            limit.what
        ));
    }
    Ok(bytes)
}

/// Reads a text file: as [`read_input`], and UTF-8.
pub fn read_text(path: &Path, limit: &Limit) -> std::result::Result<String, String> {
    String::from_utf8(read_input(path, limit)?)
        .map_err(|_| "stream did not contain valid UTF-8".to_owned())
}

/// `1 << 30` as `1 GiB`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Writes `bytes` to `path`, or to standard output when there is none.
///
/// A file that exists is replaced, not rewritten: the bytes go to a new
/// file created with mode 0600 in the same directory, which is then renamed
/// over it. So a plan or snapshot is never readable by others, not even
/// for a moment when the file it replaces was, and a reader never sees it
/// half-written. (Changing the mode of the old file first would fail on a
/// file of another owner, and would leave the old contents readable while
/// the new ones are written.) A device or a pipe, such as `/dev/stdout`,
/// is written as it is. A file this run read is never written.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    let Some(path) = path else {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|e| Failure::new(format!("cannot write to standard output: {e}")));
    };
    let fail = |reason: String| Failure::new(format!("cannot write {}: {reason}", path.display()));
    // A symbolic link stays; the file it points to is replaced.
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    match std::fs::metadata(&target) {
        Ok(m) if is_input(&m) => Err(fail(
            "it is an input of this command; write the output to another file".to_owned(),
        )),
        Ok(m) if m.is_dir() => Err(fail("Is a directory".to_owned())),
        Ok(m) if !m.is_file() => OpenOptions::new()
            .write(true)
            .open(&target)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| fail(e.to_string())),
        _ => replace(&target, bytes).map_err(|e| fail(e.to_string())),
    }
}

fn is_input(metadata: &std::fs::Metadata) -> bool {
    let id = (metadata.dev(), metadata.ino());
    INPUTS
        .lock()
        .expect("no thread panics holding it")
        .contains(&id)
}

/// Writes `bytes` to a new mode 0600 file next to `target`, and renames it
/// to `target`.
fn replace(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (temporary, mut file) = create_beside(target)?;
    let written = file
        .write_all(bytes)
        .and_then(|_| file.sync_all())
        .and_then(|_| std::fs::rename(&temporary, target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// A new file `.<name>.<pid>.<n>.pgsr` in the directory of `target`.
fn create_beside(target: &Path) -> std::io::Result<(PathBuf, File)> {
    let name = target
        .file_name()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "not a file name"))?;
    let directory = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut n = 0;
    loop {
        let mut temporary = std::ffi::OsString::from(".");
        temporary.push(name);
        temporary.push(format!(".{}.{n}.pgsr", std::process::id()));
        let temporary = directory.join(temporary);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}
