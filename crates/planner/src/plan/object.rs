//! Objects privileges and ownership apply to, in one general model.
//!
//! The desired-file vocabulary names only a few kinds of object, but the
//! planner reasons about every kind the catalog snapshot holds, so that
//! widening the vocabulary needs no change here.

use crate::acl::AclObjectType;
use crate::kind::{ObjectKind, Owner};
use crate::quote::quote_ident;
use crate::snapshot::{RelKind, RoutineKind};

/// One object, identified by name (the way statements name it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectRef {
    Database(String),
    Tablespace(String),
    Parameter(String),
    Schema(String),
    Relation {
        schema: String,
        name: String,
        kind: RelKind,
    },
    Column {
        schema: String,
        table: String,
        column: String,
    },
    Routine {
        schema: String,
        name: String,
        arguments: String,
        kind: RoutineKind,
    },
    Type {
        schema: String,
        name: String,
        domain: bool,
    },
    Language(String),
    LargeObject(u32),
    ForeignDataWrapper(String),
    ForeignServer(String),
}

impl ObjectRef {
    /// The schema the object lives in, if it lives in one.
    pub fn schema(&self) -> Option<&str> {
        match self {
            ObjectRef::Relation { schema, .. }
            | ObjectRef::Column { schema, .. }
            | ObjectRef::Routine { schema, .. }
            | ObjectRef::Type { schema, .. } => Some(schema),
            _ => None,
        }
    }

    /// Whether pgsr manages the ownership of this object: schemas and
    /// table-likes, the kinds a desired file can declare ownership of.
    pub fn ownership_managed(&self) -> bool {
        match self {
            ObjectRef::Schema(_) => true,
            ObjectRef::Relation { kind, .. } => kind.is_table_like(),
            _ => false,
        }
    }

    /// The object's kind, whose definition says the rest.
    pub fn kind(&self) -> ObjectKind {
        match self {
            ObjectRef::Database(_) => ObjectKind::Database,
            ObjectRef::Tablespace(_) => ObjectKind::Tablespace,
            ObjectRef::Parameter(_) => ObjectKind::Parameter,
            ObjectRef::Schema(_) => ObjectKind::Schema,
            ObjectRef::Relation {
                kind: RelKind::Sequence,
                ..
            } => ObjectKind::Sequence,
            ObjectRef::Relation { .. } => ObjectKind::Table,
            ObjectRef::Column { .. } => ObjectKind::Column,
            ObjectRef::Routine { .. } => ObjectKind::Routine,
            ObjectRef::Type { .. } => ObjectKind::Type,
            ObjectRef::Language(_) => ObjectKind::Language,
            ObjectRef::LargeObject(_) => ObjectKind::LargeObject,
            ObjectRef::ForeignDataWrapper(_) => ObjectKind::ForeignDataWrapper,
            ObjectRef::ForeignServer(_) => ObjectKind::ForeignServer,
        }
    }

    pub fn acl_object_type(&self) -> AclObjectType {
        self.kind().def().acl
    }

    /// The object class keyword used in GRANT and REVOKE (`ON <class> …`).
    /// Columns use their table's (the column goes with the privilege).
    pub fn grant_class(&self) -> &'static str {
        match self {
            ObjectRef::Routine {
                kind: RoutineKind::Procedure,
                ..
            } => "PROCEDURE",
            ObjectRef::Type { domain: true, .. } => "DOMAIN",
            other => other.kind().def().grant_class,
        }
    }

    /// The object class keyword used in `ALTER <class> … OWNER TO`; none
    /// for what has no owner of its own (columns, parameters).
    pub fn alter_class(&self) -> Option<&'static str> {
        let class = match self {
            ObjectRef::Relation { kind, .. } => match kind {
                RelKind::Table | RelKind::PartitionedTable => "TABLE",
                RelKind::View => "VIEW",
                RelKind::MaterializedView => "MATERIALIZED VIEW",
                RelKind::ForeignTable => "FOREIGN TABLE",
                RelKind::Sequence => "SEQUENCE",
            },
            ObjectRef::Routine { kind, .. } => match kind {
                RoutineKind::Function | RoutineKind::Window => "FUNCTION",
                RoutineKind::Procedure => "PROCEDURE",
                RoutineKind::Aggregate => "AGGREGATE",
            },
            ObjectRef::Type { domain: true, .. } => "DOMAIN",
            other => match other.kind().def().owner {
                Owner::Own { alter_class } => alter_class,
                Owner::Table | Owner::None => return None,
            },
        };
        Some(class)
    }

    /// The object's name as it appears in statements, quoted. For a column
    /// this is its table's name.
    pub fn sql_name(&self) -> String {
        match self {
            ObjectRef::Database(n)
            | ObjectRef::Tablespace(n)
            | ObjectRef::Schema(n)
            | ObjectRef::Language(n)
            | ObjectRef::ForeignDataWrapper(n)
            | ObjectRef::ForeignServer(n) => quote_ident(n),
            // Custom parameters are dotted (`plpgsql.extra_warnings`).
            ObjectRef::Parameter(n) => n.split('.').map(quote_ident).collect::<Vec<_>>().join("."),
            ObjectRef::Relation { schema, name, .. } | ObjectRef::Type { schema, name, .. } => {
                format!("{}.{}", quote_ident(schema), quote_ident(name))
            }
            ObjectRef::Column { schema, table, .. } => {
                format!("{}.{}", quote_ident(schema), quote_ident(table))
            }
            // The identity arguments come from PostgreSQL's own
            // `pg_get_function_identity_arguments`, already in SQL form.
            ObjectRef::Routine {
                schema,
                name,
                arguments,
                ..
            } => {
                format!("{}.{}({arguments})", quote_ident(schema), quote_ident(name))
            }
            ObjectRef::LargeObject(oid) => oid.to_string(),
        }
    }

    /// A short human description for plan comments (unquoted).
    pub fn describe(&self) -> String {
        match self {
            ObjectRef::Database(n) => format!("database {n}"),
            ObjectRef::Tablespace(n) => format!("tablespace {n}"),
            ObjectRef::Parameter(n) => format!("parameter {n}"),
            ObjectRef::Schema(n) => format!("schema {n}"),
            ObjectRef::Relation { schema, name, kind } => {
                format!("{} {schema}.{name}", relkind_word(*kind))
            }
            ObjectRef::Column {
                schema,
                table,
                column,
            } => format!("column {schema}.{table}.{column}"),
            ObjectRef::Routine {
                schema,
                name,
                arguments,
                ..
            } => format!("routine {schema}.{name}({arguments})"),
            ObjectRef::Type {
                schema,
                name,
                domain,
            } => {
                format!(
                    "{} {schema}.{name}",
                    if *domain { "domain" } else { "type" }
                )
            }
            ObjectRef::Language(n) => format!("language {n}"),
            ObjectRef::LargeObject(oid) => format!("large object {oid}"),
            ObjectRef::ForeignDataWrapper(n) => format!("foreign-data wrapper {n}"),
            ObjectRef::ForeignServer(n) => format!("foreign server {n}"),
        }
    }
}

pub(crate) fn relkind_word(kind: RelKind) -> &'static str {
    match kind {
        RelKind::Table => "table",
        RelKind::PartitionedTable => "partitioned table",
        RelKind::View => "view",
        RelKind::MaterializedView => "materialized view",
        RelKind::ForeignTable => "foreign table",
        RelKind::Sequence => "sequence",
    }
}
