//! Progress on standard error, for work that takes more than a second:
//! a bar for applies (statements) and multi-database reads (databases), a
//! line with the time so far for a read of one database (one round trip,
//! nothing to count). Only on a terminal: logs and pipes get nothing.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Shown only once the work has taken this long.
const AFTER: Duration = Duration::from_secs(1);
const WIDTH: usize = 24;

/// `[#########...............]  12/50 what`: the bar for `done` of `total`.
pub fn bar(done: usize, total: usize, what: &str) -> String {
    let filled = (done.min(total) * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH);
    format!(
        "[{}{}] {done}/{total} {what}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    )
}

/// A bar that draws itself once a second has passed, on a terminal.
pub struct Bar {
    started: Instant,
    tty: bool,
    what: &'static str,
    shown: bool,
}

impl Bar {
    pub fn new(what: &'static str) -> Bar {
        Bar {
            started: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            what,
            shown: false,
        }
    }

    pub fn update(&mut self, done: usize, total: usize) {
        if self.tty && self.started.elapsed() >= AFTER {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[Kpgsr: {}", bar(done, total, self.what));
            let _ = err.flush();
            self.shown = true;
        }
    }

    /// Clears the bar's line, when it was drawn.
    pub fn finish(&mut self) {
        if self.shown {
            eprint!("\r\x1b[K");
            self.shown = false;
        }
    }
}

/// Runs `work`, saying on a terminal, after a second, that it is under
/// way and for how long, until it ends.
pub fn ticking<T>(what: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let (done, wait) = mpsc::channel::<()>();
    let what = what.to_owned();
    let ticker = std::thread::spawn(move || {
        let started = Instant::now();
        let mut shown = false;
        let mut next = AFTER;
        while let Err(mpsc::RecvTimeoutError::Timeout) =
            wait.recv_timeout(next.saturating_sub(started.elapsed()))
        {
            eprint!("\r\x1b[Kpgsr: {what} ({} s)", started.elapsed().as_secs());
            shown = true;
            next += Duration::from_secs(1);
        }
        if shown {
            eprint!("\r\x1b[K");
        }
    });
    let out = work();
    let _ = done.send(());
    let _ = ticker.join();
    out
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_bar_fills_with_the_work() {
        assert_eq!(
            bar(0, 50, "databases"),
            format!("[{}] 0/50 databases", ".".repeat(24))
        );
        assert_eq!(
            bar(25, 50, "x"),
            format!("[{}{}] 25/50 x", "#".repeat(12), ".".repeat(12))
        );
        assert_eq!(bar(50, 50, "x"), format!("[{}] 50/50 x", "#".repeat(24)));
        assert_eq!(bar(0, 0, "x"), format!("[{}] 0/0 x", "#".repeat(24)));
        assert_eq!(bar(9, 4, "x"), format!("[{}] 9/4 x", "#".repeat(24)));
    }
}
