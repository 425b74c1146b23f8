//! pgsr run in the background, and polling for what it does meanwhile.

use crate::{Pg, PgsrOutput};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// `pgsr <args>` as `user` in `db` (see [`Pg::pgsr_command`]).
pub fn pgsr_command(pg: &Pg, user: &str, db: &str, args: &[&str]) -> Command {
    pg.pgsr_command(user, db, args)
}

/// A pgsr process running in the background (its output piped).
pub struct Background {
    child: Option<Child>,
    started: Instant,
}

impl Background {
    pub fn spawn(mut cmd: Command) -> Background {
        Background {
            child: Some(cmd.spawn().expect("spawn pgsr")),
            started: Instant::now(),
        }
    }

    /// Whether it has exited.
    pub fn finished(&mut self) -> bool {
        let child = self.child.as_mut().expect("not waited for yet");
        child.try_wait().expect("try_wait").is_some()
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Waits up to `limit` for it to exit and returns its output; kills it
    /// (our own child, by its handle) and fails when it does not exit. The
    /// pipes are read meanwhile, so that output larger than a pipe (a
    /// snapshot) cannot hold it up.
    #[track_caller]
    pub fn wait(mut self, limit: Duration) -> PgsrOutput {
        let deadline = Instant::now() + limit;
        let mut child = self.child.take().expect("not waited for yet");
        let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    pipe.read_to_end(&mut bytes).ok();
                }
                bytes
            })
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
        let Some(status) = status else {
            panic!("pgsr did not finish within {limit:?} (killed)\nstderr:\n{stderr}");
        };
        PgsrOutput {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
            stderr,
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // Only our own child, through its handle, and only if still running.
        if let Some(child) = self.child.as_mut() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Polls `cond` every few milliseconds until it holds (true) or `limit`
/// passes (false).
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

/// Fails with the whole output when pgsr panicked.
#[track_caller]
pub fn no_panic(out: &PgsrOutput) {
    no_panic_in("pgsr", out);
}

/// As [`no_panic`], the failure saying what ran (`context`).
#[track_caller]
pub fn no_panic_in(context: &str, out: &PgsrOutput) {
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"),
        "{context}: pgsr panicked (exit {}):\nstdout:\n{}\nstderr:\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
}
