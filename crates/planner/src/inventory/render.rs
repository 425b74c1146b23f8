//! The inventory as text: a terminal table (markers ✓ ✗ ?, colored when
//! asked), JSON (versioned), CSV, or Markdown.

use super::{Check, ObjectAccess, RoleAccess, RoleSummary, FORMAT_VERSION};
use crate::display::escape;
use serde::Serialize;

/// What the inventory shows.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum View {
    Roles {
        roles: Vec<RoleSummary>,
    },
    Role(RoleAccess),
    /// Every role's privileges beyond PUBLIC's.
    All {
        roles: Vec<RoleAccess>,
    },
    Object(ObjectAccess),
    Check(Check),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns; markers colored when `color`.
    Table {
        color: bool,
    },
    Json,
    Csv,
    Markdown,
}

#[derive(Serialize)]
struct Document<'v> {
    format_version: u32,
    #[serde(flatten)]
    view: &'v View,
}

/// One table: a title, column names, rows.
struct Table {
    title: String,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

enum Cell {
    Text(String),
    /// ✓, ✗ or ?.
    Mark(Mark),
}

#[derive(Clone, Copy)]
enum Mark {
    Yes,
    No,
    Unknown,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Yes => "✓",
            Mark::No => "✗",
            Mark::Unknown => "?",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Mark::Yes => "yes",
            Mark::No => "no",
            Mark::Unknown => "unknown",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Mark::Yes => "\x1b[32m",
            Mark::No => "\x1b[31m",
            Mark::Unknown => "\x1b[33m",
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// The view in the format.
pub fn render(view: &View, format: Format) -> String {
    if format == Format::Json {
        let mut out = serde_json::to_string_pretty(&Document {
            format_version: FORMAT_VERSION,
            view,
        })
        .expect("the inventory serializes");
        out.push('\n');
        return out;
    }
    let tables = tables(view);
    let mut out = String::new();
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match format {
            Format::Table { color } => terminal(t, color, &mut out),
            Format::Csv => csv(t, &mut out),
            Format::Markdown => markdown(t, &mut out),
            Format::Json => unreachable!("handled above"),
        }
    }
    out
}

fn tables(view: &View) -> Vec<Table> {
    match view {
        View::Roles { roles } => vec![Table {
            title: "roles".into(),
            columns: vec!["role", "attributes", "member of", "members"],
            rows: roles
                .iter()
                .map(|r| {
                    vec![
                        text(&r.name),
                        text(attributes(r)),
                        text(r.member_of.join(", ")),
                        text(r.members.join(", ")),
                    ]
                })
                .collect(),
        }],
        View::Role(a) => vec![held(a)],
        View::All { roles } => roles.iter().map(held).collect(),
        View::Object(o) => vec![Table {
            title: format!(
                "{} (owner {})",
                o.object,
                o.owner.as_deref().unwrap_or("none")
            ),
            columns: vec!["role", "privilege", "how"],
            rows: o
                .holders
                .iter()
                .map(|h| {
                    vec![
                        text(&h.role),
                        text(h.privilege.keyword()),
                        text(h.path.describe()),
                    ]
                })
                .collect(),
        }],
        View::Check(c) => check_tables(c),
    }
}

/// One role's privileges.
fn held(a: &RoleAccess) -> Table {
    Table {
        title: format!("{} ({})", a.role.name, attributes(&a.role)),
        columns: vec!["kind", "object", "privilege", "how"],
        rows: a
            .held
            .iter()
            .map(|h| {
                vec![
                    text(h.kind),
                    text(&h.object),
                    text(h.privilege.keyword()),
                    text(h.path.describe()),
                ]
            })
            .collect(),
    }
}

fn check_tables(c: &Check) -> Vec<Table> {
    let mut configured = Table {
        title: "configured roles".into(),
        columns: vec!["", "role", "grant", "changes"],
        rows: Vec::new(),
    };
    for r in &c.configured {
        let mark = if !r.exists {
            Mark::Unknown
        } else if r.satisfied {
            Mark::Yes
        } else {
            Mark::No
        };
        configured.rows.push(vec![
            Cell::Mark(mark),
            text(&r.role),
            text(if r.exists { "" } else { "(missing)" }),
            text(r.other_changes.join("; ")),
        ]);
        for g in &r.grants {
            configured.rows.push(vec![
                Cell::Mark(if g.satisfied { Mark::Yes } else { Mark::No }),
                text(""),
                text(&g.grant),
                text(g.changes.join("; ")),
            ]);
        }
    }
    let unknown = Table {
        title: "roles not in the file with access".into(),
        columns: vec!["", "role", "objects"],
        rows: c
            .unknown_with_access
            .iter()
            .map(|(r, n)| vec![Cell::Mark(Mark::Unknown), text(r), text(n.to_string())])
            .collect(),
    };
    let logins = Table {
        title: "login roles with access to nothing here".into(),
        columns: vec!["role"],
        rows: c
            .logins_without_access
            .iter()
            .map(|r| vec![text(r)])
            .collect(),
    };
    vec![configured, unknown, logins]
}

fn attributes(r: &RoleSummary) -> String {
    let mut out: Vec<String> = [
        (r.superuser, "superuser"),
        (r.login, "login"),
        (r.createdb, "createdb"),
        (r.createrole, "createrole"),
        (r.replication, "replication"),
        (r.bypassrls, "bypassrls"),
        (!r.inherit, "noinherit"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, w)| w.to_owned())
    .collect();
    if r.connection_limit >= 0 {
        out.push(format!("connection limit {}", r.connection_limit));
    }
    if let Some(v) = &r.valid_until {
        out.push(format!("valid until {v}"));
    }
    out.join(", ")
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => escape(t),
        Cell::Mark(m) => m.symbol().to_owned(),
    }
}

fn terminal(t: &Table, color: bool, out: &mut String) {
    out.push_str(&escape(&t.title));
    out.push('\n');
    if t.rows.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let mut widths: Vec<usize> = t.columns.iter().map(|c| c.chars().count()).collect();
    for row in &t.rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell_text(c).chars().count());
        }
    }
    let line = |cells: Vec<(String, Option<&str>)>, out: &mut String| {
        let mut parts = Vec::new();
        for (i, (s, paint)) in cells.into_iter().enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(s.chars().count()));
            parts.push(match paint {
                Some(code) => format!("{code}{s}\x1b[0m{pad}"),
                None => format!("{s}{pad}"),
            });
        }
        out.push_str("  ");
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(
        t.columns.iter().map(|c| ((*c).to_owned(), None)).collect(),
        out,
    );
    for row in &t.rows {
        line(
            row.iter()
                .map(|c| {
                    let paint = match c {
                        Cell::Mark(m) if color => Some(m.color()),
                        _ => None,
                    };
                    (cell_text(c), paint)
                })
                .collect(),
            out,
        );
    }
}

fn csv(t: &Table, out: &mut String) {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut header = vec!["table".to_owned()];
    header.extend(
        t.columns
            .iter()
            .map(|c| field(if c.is_empty() { "mark" } else { c })),
    );
    out.push_str(&header.join(","));
    out.push('\n');
    for row in &t.rows {
        let mut cells = vec![field(&t.title)];
        cells.extend(row.iter().map(|c| match c {
            Cell::Text(s) => field(s),
            Cell::Mark(m) => m.word().to_owned(),
        }));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
}

fn markdown(t: &Table, out: &mut String) {
    let cell = |s: String| s.replace('|', "\\|");
    out.push_str(&format!("### {}\n\n", cell(escape(&t.title))));
    if t.rows.is_empty() {
        out.push_str("(none)\n");
        return;
    }
    out.push_str(&format!("| {} |\n", t.columns.join(" | ")));
    out.push_str(&format!(
        "|{}|\n",
        t.columns
            .iter()
            .map(|_| "---")
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(cell_text(c))).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}
