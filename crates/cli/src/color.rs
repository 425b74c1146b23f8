//! Colour on terminals: `--color never|auto|always`, and `NO_COLOR`.
//!
//! Colour is for people at a terminal: with `auto` (the default) a stream
//! is coloured only when it is a terminal, `NO_COLOR` is unset or empty and
//! `TERM` is not `dumb`. Files written with `-o` are never coloured, and
//! colour only wraps text: it never changes what is written.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// When to colour, as `--color` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    Never,
    #[default]
    Auto,
    Always,
}

static WHEN: OnceLock<When> = OnceLock::new();

/// Records `--color`, once, before anything is printed.
pub fn set(when: When) {
    let _ = WHEN.set(when);
}

/// Whether standard output is coloured.
pub fn stdout() -> bool {
    enabled(std::io::stdout().is_terminal())
}

/// Whether standard error is coloured.
pub fn stderr() -> bool {
    enabled(std::io::stderr().is_terminal())
}

fn enabled(terminal: bool) -> bool {
    match WHEN.get().copied().unwrap_or_default() {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// `pgsr: warning: <text>` on standard error, the prefix coloured there
/// when it is a terminal; `text` has its control characters escaped.
pub fn warn(text: &str) {
    eprintln!(
        "{} {}",
        paint("pgsr: warning:", Style::Warning, stderr()),
        pgsr_planner::display::escape(text)
    );
}

/// What a piece of text is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Error,
    Warning,
    /// A plan's comments.
    Comment,
    /// A plan's summary lines.
    Summary,
    /// A grant of power, a retirement: what a reviewer must not miss.
    Power,
}

/// `text` in `style`'s colour when `on`, else as it is.
pub fn paint(text: &str, style: Style, on: bool) -> String {
    if !on {
        return text.to_owned();
    }
    let code = match style {
        Style::Error => "1;31",
        Style::Warning => "1;33",
        Style::Comment => "2",
        Style::Summary => "1",
        Style::Power => "1;35",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A plan script with its header and comments coloured for a terminal:
/// warnings, power and skips stand out, the summary is bold, the other
/// comments are dim, and statements are as they are.
pub fn script(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let style = if !body.starts_with("--") {
            None
        } else if body.starts_with("-- warning:") {
            Some(Style::Warning)
        } else if body.starts_with("-- power:") || body.starts_with("-- skipped:") {
            Some(Style::Power)
        } else if body.starts_with("-- summary:") || body.starts_with("-- part:") {
            Some(Style::Summary)
        } else {
            Some(Style::Comment)
        };
        match style {
            Some(s) => out.push_str(&paint(body, s, true)),
            None => out.push_str(body),
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_wraps_lines_and_changes_nothing_else() {
        let text = "-- pgsr plan\n-- warning: w\n-- summary: s\n\n-- why\nGRANT x TO y;\n";
        let coloured = script(text);
        let plain: String = {
            // Remove every escape sequence.
            let mut out = String::new();
            let mut rest = coloured.as_str();
            while let Some(i) = rest.find('\x1b') {
                out.push_str(&rest[..i]);
                let end = rest[i..].find('m').expect("an SGR sequence ends in m");
                rest = &rest[i + end + 1..];
            }
            out.push_str(rest);
            out
        };
        assert_eq!(plain, text);
        assert!(coloured.contains("\x1b[1;33m-- warning: w\x1b[0m\n"));
        assert!(coloured.contains("GRANT x TO y;\n"));
        assert!(!coloured.contains("\x1b[2mGRANT"));
        assert_eq!(paint("x", Style::Error, false), "x");
    }
}
