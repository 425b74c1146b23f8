//! Text from inputs, made safe to show.
//!
//! Names and values come from files and the catalog, and can hold anything
//! but NUL. Wherever pgsr shows them, in error messages and in plan comments,
//! they go through [`escape`] (or [`quoted`]), so that a terminal never sees
//! an escape sequence, a carriage return, a bell or a C1 control such as
//! U+009B raw, and no name can end a comment line or a one-line error.

/// Whether `c` is written escaped: control characters (C0, DEL and C1),
/// the Unicode line and paragraph separators, and the bidirectional
/// controls that reorder what a terminal or an editor displays.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` on one line, with every unsafe character written as Rust writes
/// it in a string (`\n`, `\r`, `\u{1b}`, `\u{9b}`); everything else as is.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A value for a message: escaped, in backticks, cut after 60 characters.
pub fn quoted(text: &str) -> String {
    const LIMIT: usize = 60;
    let mut cut: String = text.chars().take(LIMIT).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("`{}`", escape(&cut))
}

/// `a, b and c`, or the first few and how many more.
pub fn list(names: &[impl AsRef<str>]) -> String {
    const SHOWN: usize = 5;
    let shown: Vec<&str> = names.iter().take(SHOWN).map(AsRef::as_ref).collect();
    match names.len() {
        0 => String::new(),
        1 => shown[0].to_owned(),
        n if n <= SHOWN => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
        n => format!("{} and {} more", shown.join(", "), n - SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped() {
        let hostile = "a\u{1b}[31mb\rc\u{7}d\u{9b}2Je\u{7f}f\u{85}g\u{202e}h\u{2028}i\tj\nk";
        let shown = escape(hostile);
        assert_eq!(
            shown,
            "a\\u{1b}[31mb\\rc\\u{7}d\\u{9b}2Je\\u{7f}f\\u{85}g\\u{202e}h\\u{2028}i\\tj\\nk"
        );
        assert!(!shown.chars().any(is_unsafe));
        assert_eq!(escape(&shown), shown, "escaping twice changes nothing");
    }

    #[test]
    fn other_text_is_unchanged() {
        for text in [
            "plain",
            "Ünïcödé €",
            "日本語",
            "quote \" and ` and \\",
            "emoji 🐘",
        ] {
            assert_eq!(escape(text), text);
        }
    }

    #[test]
    fn quoted_values_are_short() {
        assert_eq!(quoted("a\u{1b}"), "`a\\u{1b}`");
        let long = "x".repeat(100);
        assert_eq!(quoted(&long), format!("`{}…`", "x".repeat(60)));
        assert_eq!(quoted(&"é".repeat(60)), format!("`{}`", "é".repeat(60)));
    }
}
