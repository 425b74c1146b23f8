//! The desired state: which roles pgsr manages and every grant each holds.
//!
//! Read from YAML or JSON (one schema; see `docs/desired.md`) by [`parse`].
//! The vocabulary is pg-sync-roles' grant types, one to one. Every value
//! keeps the position it came from so that later checks can point at it.

mod check;
mod databases;
mod grant;
mod parse;
mod profile;
mod role;
mod schema;
mod suffix;
mod template;
mod timestamp;

pub(crate) use role::{split_list, LIST_QUOTED};
pub use role::{
    Attributes, Member, MembershipOptions, Retirement, Setting, SettingValue, Spanned, Unlisted,
    UnlistedAction,
};

pub use databases::{is_local, DatabaseSet};
pub use schema::check_suffix;
pub use timestamp::{parse_timestamp, timestamp_from_unix};

use crate::acl::Privilege;
use crate::kind::ObjectKind;
use std::fmt;

/// The advisory lock key used when nothing says otherwise (pg-sync-roles').
pub const DEFAULT_LOCK_KEY: i64 = 1;

/// A 1-based position in the desired file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub line: usize,
    pub column: usize,
}

/// An error in the desired file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredError {
    pub span: Span,
    pub message: String,
}

impl fmt::Display for DesiredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.span.line, self.span.column, self.message
        )
    }
}

impl std::error::Error for DesiredError {}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    /// Key of `pg_advisory_xact_lock` taken when applying.
    pub lock_key: i64,
    /// In file order; names are unique.
    pub roles: Vec<DesiredRole>,
    /// Roles that may be given power (see [`crate::power`]): the top-level
    /// `allow_power` list.
    pub allow_power: Vec<String>,
    /// Where ownership taken away from managed roles goes, unless a role
    /// says otherwise; none: to the connecting role.
    pub reassign_owned_to: Option<RoleRef>,
    /// The top-level `public` section: what PUBLIC holds in the database
    /// planned for (its name is `public`, its grants privileges only).
    /// None: PUBLIC's privileges are left as they are.
    pub public: Option<DesiredRole>,
    /// Roles to drop (`retired`, and roles with `state: absent`), in file
    /// order.
    pub retired: Vec<Retirement>,
    /// What becomes of existing roles that match a pattern but are not
    /// listed (`unlisted_roles`); none: they are left alone.
    pub unlisted_roles: Option<Unlisted>,
    /// PUM's per-database roles: each role's privileges go to a role named
    /// `<role>_<suffix>`, of which the role is made a member (see
    /// [`Desired::with_suffix`]).
    pub suffix: Option<Spanned<String>>,
    /// The top-level `databases`: the databases a plan manages. None: the
    /// connected database alone.
    pub databases: Option<DatabaseSet>,
}

/// A role named in the desired file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRef {
    pub name: String,
    pub span: Span,
}

/// A managed role: after a plan is applied it holds exactly these grants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredRole {
    pub name: String,
    pub span: Span,
    /// At most one; none means NOLOGIN.
    pub login: Option<Login>,
    /// Every grant but `login`, in file order.
    pub grants: Vec<Grant>,
    /// Privileges and ownership on objects inside these schemas are left as
    /// they are (the schemas themselves stay managed).
    pub preserve_existing_grants_in_schemas: Vec<String>,
    /// `allow_power: true`: this role may be given membership of a powerful
    /// role, or the ownership of a schema that is power.
    pub allow_power: bool,
    /// Where ownership taken away from this role goes (before the
    /// top-level `reassign_owned_to`).
    pub reassign_owned_to: Option<RoleRef>,
    /// Attributes declared; the rest take their safe defaults.
    pub attributes: Attributes,
    /// `settings` and `database_settings`: after a sync the role has
    /// exactly these (`ALTER ROLE … [IN DATABASE …] SET`).
    pub settings: Vec<Setting>,
    /// `COMMENT ON ROLE`: none leaves the comment as it is, an empty one
    /// removes it.
    pub description: Option<String>,
    /// `renamed_from`: the role's former name; an existing role of that
    /// name is renamed (keeping its oid and all it holds).
    pub renamed_from: Option<RoleRef>,
    /// `members`: when given, the group has exactly these members (and
    /// the managed roles that name it in `member_of`).
    pub members: Option<Vec<Member>>,
}

impl Desired {
    /// The `reassign_owned_to` that applies to `role`: its own, else the
    /// top-level one; none means the connecting role.
    pub fn reassign_target(&self, role: &str) -> Option<&RoleRef> {
        self.roles
            .iter()
            .find(|r| r.name == role)
            .and_then(|r| r.reassign_owned_to.as_ref())
            .or(self.reassign_owned_to.as_ref())
    }

    /// Whether the file opts in to giving `role` power.
    pub fn allows_power(&self, role: &str) -> bool {
        self.allow_power.iter().any(|r| r == role)
            || self.roles.iter().any(|r| r.name == role && r.allow_power)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub password: PasswordSource,
    /// UTC, normalized as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the form snapshots
    /// use); `None` means forever.
    pub valid_until: Option<String>,
    pub span: Span,
}

/// Where a login's password comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// No password given: the existing one, if any, is kept.
    Keep,
    /// The password itself (given literally, or already resolved).
    Literal(Secret),
    /// The named environment variable, resolved by the caller.
    Env { name: String, span: Span },
    /// The file at this path (trailing newline removed), resolved by the caller.
    File { path: String, span: Span },
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Keep => f.write_str("Keep"),
            PasswordSource::Literal(_) => f.write_str("Literal(***)"),
            PasswordSource::Env { name, .. } => write!(f, "Env({name})"),
            PasswordSource::File { path, .. } => write!(f, "File({path})"),
        }
    }
}

/// A password. It never shows in `Debug` output, and pgsr never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub kind: GrantKind,
    pub span: Span,
    /// The grant's `database`: the databases it applies in (grants on
    /// objects inside a database only). None: every managed database.
    pub databases: Option<DatabaseSet>,
}

/// pg-sync-roles' grant types (but `Login`, kept apart on the role).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantKind {
    /// CONNECT on a database, through an intermediate role.
    DatabaseConnect { database: String },
    /// USAGE on a schema; `direct` grants it on the schema to the role itself.
    SchemaUsage { schema: String, direct: bool },
    /// CREATE on a schema.
    SchemaCreate { schema: String, direct: bool },
    /// Ownership of a schema, created when missing.
    SchemaOwnership { schema: String },
    /// SELECT on table-likes, by name or by regex.
    TableSelect {
        schema: String,
        table: TableName,
        direct: bool,
    },
    /// Ownership of a table-like.
    TableOwnership { schema: String, table: String },
    /// Membership of another role, created (NOLOGIN) when missing
    /// (`role_membership`, `member_of`, PUM's `inherit`).
    RoleMembership {
        role: String,
        options: MembershipOptions,
    },
    /// Any privileges on a selection of objects of one kind (`grant`).
    Privileges(PrivilegeGrant),
    /// Privileges objects get when `owner` creates them
    /// (`default_privileges`).
    DefaultPrivileges(DefaultGrant),
    /// Ownership of objects of any kind that has an owner (`ownership`).
    Ownership { on: ObjectKind, objects: Objects },
}

/// Default privileges: what objects of a kind get when their owner creates
/// them, in a schema or anywhere (`ALTER DEFAULT PRIVILEGES FOR ROLE owner
/// [IN SCHEMA schema] GRANT …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultGrant {
    pub privileges: Privileges,
    /// A kind that has default privileges (tables, sequences, routines,
    /// types, schemas, large objects).
    pub on: ObjectKind,
    pub owner: String,
    /// None: in every schema (the global default privileges).
    pub schema: Option<String>,
    pub with_grant_option: bool,
}

/// Privileges on a selection of objects of one kind: the general grant, of
/// which pg-sync-roles' kinds are special cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivilegeGrant {
    pub privileges: Privileges,
    pub on: ObjectKind,
    pub objects: Objects,
    /// For `on: column`: the columns of the selected tables.
    pub columns: Vec<String>,
    pub with_grant_option: bool,
    /// Held by the role itself (the default), or through an intermediate
    /// role (`direct: false`: databases, schemas and table-likes).
    pub direct: bool,
}

/// Which privileges a grant names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Privileges {
    /// Every privilege of the kind (on the server planned for).
    All,
    /// In file order, without repeats.
    Listed(Vec<Privilege>),
}

impl Privileges {
    /// The privileges meant on a server of this version.
    pub fn expand(&self, on: ObjectKind, server_version_num: u32) -> Vec<Privilege> {
        match self {
            Privileges::All => on.privileges(server_version_num).to_vec(),
            Privileges::Listed(list) => list.clone(),
        }
    }
}

/// Which objects of the kind a grant selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Objects {
    /// By name (a routine's may carry its argument types: `f(integer)`; a
    /// large object's is its oid). `schema` for kinds that live in one.
    Named {
        schema: Option<String>,
        names: Vec<String>,
    },
    /// Names starting with a match of the pattern, as `table_regex`.
    Regex {
        schema: Option<String>,
        pattern: Pattern,
    },
    /// Every object of the kind (in `schema`, for kinds that live in one),
    /// but those named in `except`. PostgreSQL's own schemas are never
    /// among every schema.
    All {
        schema: Option<String>,
        except: Vec<String>,
    },
    /// The database the plan is made in (a profile's database, when its use
    /// names none).
    Current,
}

impl Objects {
    pub fn schema(&self) -> Option<&str> {
        match self {
            Objects::Named { schema, .. }
            | Objects::Regex { schema, .. }
            | Objects::All { schema, .. } => schema.as_deref(),
            Objects::Current => None,
        }
    }
}

impl GrantKind {
    /// pg-sync-roles' privilege kinds as the general grant they are sugar
    /// for; None for the other kinds.
    pub fn as_privileges(&self) -> Option<PrivilegeGrant> {
        let grant = |privilege: Privilege, on: ObjectKind, objects: Objects, direct: bool| {
            Some(PrivilegeGrant {
                privileges: Privileges::Listed(vec![privilege]),
                on,
                objects,
                columns: Vec::new(),
                with_grant_option: false,
                direct,
            })
        };
        let named = |schema: Option<&String>, name: &String| Objects::Named {
            schema: schema.cloned(),
            names: vec![name.clone()],
        };
        match self {
            GrantKind::DatabaseConnect { database } => grant(
                Privilege::Connect,
                ObjectKind::Database,
                named(None, database),
                false,
            ),
            GrantKind::SchemaUsage { schema, direct } => grant(
                Privilege::Usage,
                ObjectKind::Schema,
                named(None, schema),
                *direct,
            ),
            GrantKind::SchemaCreate { schema, direct } => grant(
                Privilege::Create,
                ObjectKind::Schema,
                named(None, schema),
                *direct,
            ),
            GrantKind::TableSelect {
                schema,
                table,
                direct,
            } => {
                let objects = match table {
                    TableName::Exact(t) => named(Some(schema), t),
                    TableName::Regex(pattern) => Objects::Regex {
                        schema: Some(schema.clone()),
                        pattern: pattern.clone(),
                    },
                };
                grant(Privilege::Select, ObjectKind::Table, objects, *direct)
            }
            _ => None,
        }
    }

    /// The key this grant has in the desired file.
    pub fn key(&self) -> &'static str {
        match self {
            GrantKind::DatabaseConnect { .. } => "database_connect",
            GrantKind::SchemaUsage { .. } => "schema_usage",
            GrantKind::SchemaCreate { .. } => "schema_create",
            GrantKind::SchemaOwnership { .. } => "schema_ownership",
            GrantKind::TableSelect { .. } => "table_select",
            GrantKind::TableOwnership { .. } => "table_ownership",
            GrantKind::RoleMembership { .. } => "role_membership",
            GrantKind::Privileges(_) => "grant",
            GrantKind::DefaultPrivileges(_) => "default_privileges",
            GrantKind::Ownership { .. } => "ownership",
        }
    }
}

/// Which table-likes a `table_select` names.
#[derive(Clone, Debug)]
pub enum TableName {
    Exact(String),
    /// Matches names starting with a match, as Python's `re.match` does.
    Regex(Pattern),
}

impl PartialEq for TableName {
    fn eq(&self, other: &TableName) -> bool {
        match (self, other) {
            (TableName::Exact(a), TableName::Exact(b)) => a == b,
            (TableName::Regex(a), TableName::Regex(b)) => a.source == b.source,
            _ => false,
        }
    }
}

impl Eq for TableName {}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

/// A compiled `table_regex`.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// As written in the file.
    pub source: String,
    /// `^(?:source)`: anchored at the start only.
    pub regex: regex::Regex,
}

impl Pattern {
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        // Compiled alone first, so that `a)|(b` cannot close the anchoring
        // group and leave a branch unanchored.
        regex::Regex::new(source)?;
        Ok(Pattern {
            source: source.to_owned(),
            regex: regex::Regex::new(&format!("^(?:{source})"))?,
        })
    }

    /// A pattern that must match a whole name (`^(?:source)$`).
    pub fn whole(source: &str) -> Result<Pattern, regex::Error> {
        regex::Regex::new(source)?;
        Ok(Pattern {
            source: source.to_owned(),
            regex: regex::Regex::new(&format!("^(?:{source})$"))?,
        })
    }

    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }
}

/// Parses a desired file. `text` is the raw file content. Messages never
/// quote a password, and show names with control characters escaped.
pub fn parse(text: &[u8]) -> Result<Desired, DesiredError> {
    let text = parse::decode(text)?;
    parse::read_document(text)
        .and_then(|root| schema::desired(&root))
        .map_err(|mut e| {
            // The YAML parser marks the end of a file that does not end
            // with a line break (a syntax error there, or an empty value
            // last) on a line after the last one; the file ends where its
            // last line does.
            e.span = e.span.min(parse::end_of(text));
            e.message = crate::display::escape(&e.message);
            e
        })
}

/// Where a plan's password comes from. A plan names the source, never the
/// secret: `pgsr apply` (or `sync`) reads it when it runs the plan.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PasswordRef {
    /// An environment variable of the process that applies the plan.
    Env(String),
    /// A file (trailing newline removed), read by the process that applies.
    File(String),
    /// The literal `password` in the desired file.
    DesiredFile,
}

impl PasswordSource {
    /// What a plan names for this source; `None` keeps the password.
    pub fn reference(&self) -> Option<PasswordRef> {
        match self {
            PasswordSource::Keep => None,
            PasswordSource::Literal(_) => Some(PasswordRef::DesiredFile),
            PasswordSource::Env { name, .. } => Some(PasswordRef::Env(name.clone())),
            PasswordSource::File { path, .. } => Some(PasswordRef::File(path.clone())),
        }
    }

    /// Where the source is written in the desired file.
    pub fn span(&self) -> Option<Span> {
        match self {
            PasswordSource::Env { span, .. } | PasswordSource::File { span, .. } => Some(*span),
            _ => None,
        }
    }
}

/// Reads the secret `source` names for `role`. The lookups are the
/// caller's (the environment and files); `desired` serves the desired
/// file's literal passwords. Errors name the source, never a secret.
pub fn resolve_password(
    role: &str,
    source: &PasswordRef,
    desired: Option<&Desired>,
    env: impl Fn(&str) -> Option<String>,
    read_file: impl Fn(&str) -> Result<String, String>,
) -> Result<Secret, String> {
    // An empty variable or file is a mistake, not a password: it is
    // refused as an empty `password` is.
    let escape = crate::display::escape;
    match source {
        PasswordRef::Env(raw) => {
            let name = escape(raw);
            let value = env(raw)
                .ok_or_else(|| format!("password_env: environment variable {name} is not set"))?;
            if value.is_empty() {
                return Err(format!("password_env: environment variable {name} is empty"));
            }
            Ok(Secret::new(value))
        }
        PasswordRef::File(raw) => {
            let path = escape(raw);
            let text = read_file(raw)
                .map_err(|e| format!("password_file: cannot read {path}: {}", escape(&e)))?;
            let text = text
                .strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text);
            if text.is_empty() {
                return Err(format!("password_file: {path} holds an empty password"));
            }
            Ok(Secret::new(text))
        }
        PasswordRef::DesiredFile => desired
            .and_then(|d| d.roles.iter().find(|r| r.name == role))
            .and_then(|r| r.login.as_ref())
            .and_then(|l| match &l.password {
                PasswordSource::Literal(secret) => Some(secret.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "the password of {} is the desired file's literal `password`: give the desired file (-f FILE)",
                    escape(role)
                )
            }),
    }
}

impl Desired {
    /// Checks that every password source of the file can be read, pointing
    /// at the source when one cannot.
    pub fn check_passwords(
        &self,
        env: impl Fn(&str) -> Option<String>,
        read_file: impl Fn(&str) -> Result<String, String>,
    ) -> Result<(), DesiredError> {
        for role in &self.roles {
            let Some(login) = &role.login else { continue };
            let Some(source) = login.password.reference() else {
                continue;
            };
            resolve_password(&role.name, &source, Some(self), &env, &read_file).map_err(
                |message| DesiredError {
                    span: login.password.span().unwrap_or(login.span),
                    message,
                },
            )?;
        }
        Ok(())
    }
}
