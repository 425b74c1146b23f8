//! Every kind of object that carries privileges, each defined in one place:
//! what a desired file calls it, its privileges (and so their ACL letters and
//! PUBLIC's built-in defaults, through [`AclObjectType`]), how statements
//! name its class, whether it has an owner of its own, where the catalog
//! keeps it and what a scoped read fetches for a declaration naming one.
//!
//! A [`KindDef`] has no optional parts: a new kind that leaves one out does
//! not compile. To add a kind, add an [`ObjectKind`] variant and its
//! definition below; the compiler then points at every match that must learn
//! it (the snapshot, `ObjectRef`, the executor's catalog statement).
//!
//! ```
//! use pgsr_planner::kind::ObjectKind;
//! use pgsr_planner::acl::Privilege;
//!
//! let sequence = ObjectKind::from_word("sequences").unwrap();
//! assert_eq!(sequence, ObjectKind::Sequence);
//! assert!(sequence.privileges(150000).contains(&Privilege::Usage));
//! assert_eq!(sequence.def().grant_class, "SEQUENCE");
//! ```

use crate::acl::{AclObjectType, Privilege};
use crate::snapshot::DefaultObjectType;

/// The kinds of object privileges can be declared on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Database,
    Schema,
    /// Tables, partitioned tables, views, materialized views and foreign
    /// tables.
    Table,
    Column,
    Sequence,
    /// Functions, procedures and aggregates.
    Routine,
    /// Types and domains.
    Type,
    Language,
    ForeignDataWrapper,
    ForeignServer,
    LargeObject,
    Tablespace,
    Parameter,
}

/// Who owns objects of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// An owner of its own, changed with `ALTER <class> … OWNER TO`.
    Own { alter_class: &'static str },
    /// Its table's owner (columns).
    Table,
    /// None (parameters: only superusers and holders of privileges act).
    None,
}

/// What a scoped read (`sync`, `plan --db`) fetches for a declaration that
/// names objects of a kind, besides what the file's roles already hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scoped {
    /// Every object of the kind: the catalog is read whole (databases,
    /// schemas, tablespaces, parameters).
    Whole,
    /// Relations by name, or every relation of a schema.
    Relations,
    /// Nothing by name: a desired file that declares privileges on one is
    /// planned from a full read (routines, types, languages, foreign-data
    /// wrappers and servers, large objects).
    FullRead,
}

/// Everything about one kind.
#[derive(Debug)]
pub struct KindDef {
    pub kind: ObjectKind,
    /// The words a desired file's `on:` takes for the kind, singular first.
    pub words: &'static [&'static str],
    /// Its privileges and PUBLIC's built-in defaults.
    pub acl: AclObjectType,
    /// `GRANT … ON <class>` (routines: `FUNCTION`; procedures are named
    /// `PROCEDURE` by their object).
    pub grant_class: &'static str,
    pub owner: Owner,
    /// Whether objects of the kind live in a schema.
    pub in_schema: bool,
    /// The catalog the snapshot reads them from.
    pub catalog: &'static str,
    pub scoped: Scoped,
    /// `ALTER DEFAULT PRIVILEGES … ON <keyword>` for objects of the kind.
    pub default_privileges: Option<DefaultObjectType>,
    /// The first `server_version_num` that has the kind.
    pub since: u32,
}

const DATABASE: KindDef = KindDef {
    kind: ObjectKind::Database,
    words: &["database", "databases"],
    acl: AclObjectType::Database,
    grant_class: "DATABASE",
    owner: Owner::Own {
        alter_class: "DATABASE",
    },
    in_schema: false,
    catalog: "pg_database",
    scoped: Scoped::Whole,
    default_privileges: None,
    since: 0,
};

const SCHEMA: KindDef = KindDef {
    kind: ObjectKind::Schema,
    words: &["schema", "schemas"],
    acl: AclObjectType::Schema,
    grant_class: "SCHEMA",
    owner: Owner::Own {
        alter_class: "SCHEMA",
    },
    in_schema: false,
    catalog: "pg_namespace",
    scoped: Scoped::Whole,
    default_privileges: Some(DefaultObjectType::Schemas),
    since: 0,
};

const TABLE: KindDef = KindDef {
    kind: ObjectKind::Table,
    words: &["table", "tables"],
    acl: AclObjectType::Relation,
    grant_class: "TABLE",
    owner: Owner::Own {
        alter_class: "TABLE",
    },
    in_schema: true,
    catalog: "pg_class (relkind r, p, v, m, f)",
    scoped: Scoped::Relations,
    default_privileges: Some(DefaultObjectType::Tables),
    since: 0,
};

const COLUMN: KindDef = KindDef {
    kind: ObjectKind::Column,
    words: &["column", "columns"],
    acl: AclObjectType::Column,
    grant_class: "TABLE",
    owner: Owner::Table,
    in_schema: true,
    catalog: "pg_attribute",
    scoped: Scoped::Relations,
    default_privileges: None,
    since: 0,
};

const SEQUENCE: KindDef = KindDef {
    kind: ObjectKind::Sequence,
    words: &["sequence", "sequences"],
    acl: AclObjectType::Sequence,
    grant_class: "SEQUENCE",
    owner: Owner::Own {
        alter_class: "SEQUENCE",
    },
    in_schema: true,
    catalog: "pg_class (relkind S)",
    scoped: Scoped::Relations,
    default_privileges: Some(DefaultObjectType::Sequences),
    since: 0,
};

const ROUTINE: KindDef = KindDef {
    kind: ObjectKind::Routine,
    words: &[
        "function",
        "functions",
        "routine",
        "routines",
        "procedure",
        "procedures",
    ],
    acl: AclObjectType::Function,
    grant_class: "FUNCTION",
    owner: Owner::Own {
        alter_class: "FUNCTION",
    },
    in_schema: true,
    catalog: "pg_proc",
    scoped: Scoped::FullRead,
    default_privileges: Some(DefaultObjectType::Functions),
    since: 0,
};

const TYPE: KindDef = KindDef {
    kind: ObjectKind::Type,
    words: &["type", "types", "domain", "domains"],
    acl: AclObjectType::Type,
    grant_class: "TYPE",
    owner: Owner::Own {
        alter_class: "TYPE",
    },
    in_schema: true,
    catalog: "pg_type",
    scoped: Scoped::FullRead,
    default_privileges: Some(DefaultObjectType::Types),
    since: 0,
};

const LANGUAGE: KindDef = KindDef {
    kind: ObjectKind::Language,
    words: &["language", "languages"],
    acl: AclObjectType::Language,
    grant_class: "LANGUAGE",
    owner: Owner::Own {
        alter_class: "LANGUAGE",
    },
    in_schema: false,
    catalog: "pg_language",
    scoped: Scoped::FullRead,
    default_privileges: None,
    since: 0,
};

const FOREIGN_DATA_WRAPPER: KindDef = KindDef {
    kind: ObjectKind::ForeignDataWrapper,
    words: &["foreign_data_wrapper", "foreign_data_wrappers"],
    acl: AclObjectType::ForeignDataWrapper,
    grant_class: "FOREIGN DATA WRAPPER",
    owner: Owner::Own {
        alter_class: "FOREIGN DATA WRAPPER",
    },
    in_schema: false,
    catalog: "pg_foreign_data_wrapper",
    scoped: Scoped::FullRead,
    default_privileges: None,
    since: 0,
};

const FOREIGN_SERVER: KindDef = KindDef {
    kind: ObjectKind::ForeignServer,
    words: &["foreign_server", "foreign_servers", "server", "servers"],
    acl: AclObjectType::ForeignServer,
    grant_class: "FOREIGN SERVER",
    owner: Owner::Own {
        alter_class: "SERVER",
    },
    in_schema: false,
    catalog: "pg_foreign_server",
    scoped: Scoped::FullRead,
    default_privileges: None,
    since: 0,
};

const LARGE_OBJECT: KindDef = KindDef {
    kind: ObjectKind::LargeObject,
    words: &["large_object", "large_objects"],
    acl: AclObjectType::LargeObject,
    grant_class: "LARGE OBJECT",
    owner: Owner::Own {
        alter_class: "LARGE OBJECT",
    },
    in_schema: false,
    catalog: "pg_largeobject_metadata",
    scoped: Scoped::FullRead,
    default_privileges: Some(DefaultObjectType::LargeObjects),
    since: 0,
};

const TABLESPACE: KindDef = KindDef {
    kind: ObjectKind::Tablespace,
    words: &["tablespace", "tablespaces"],
    acl: AclObjectType::Tablespace,
    grant_class: "TABLESPACE",
    owner: Owner::Own {
        alter_class: "TABLESPACE",
    },
    in_schema: false,
    catalog: "pg_tablespace",
    scoped: Scoped::Whole,
    default_privileges: None,
    since: 0,
};

const PARAMETER: KindDef = KindDef {
    kind: ObjectKind::Parameter,
    words: &["parameter", "parameters"],
    acl: AclObjectType::Parameter,
    grant_class: "PARAMETER",
    owner: Owner::None,
    in_schema: false,
    catalog: "pg_parameter_acl",
    scoped: Scoped::Whole,
    default_privileges: None,
    since: 150000,
};

impl ObjectKind {
    pub const ALL: [ObjectKind; 13] = [
        ObjectKind::Database,
        ObjectKind::Schema,
        ObjectKind::Table,
        ObjectKind::Column,
        ObjectKind::Sequence,
        ObjectKind::Routine,
        ObjectKind::Type,
        ObjectKind::Language,
        ObjectKind::ForeignDataWrapper,
        ObjectKind::ForeignServer,
        ObjectKind::LargeObject,
        ObjectKind::Tablespace,
        ObjectKind::Parameter,
    ];

    pub fn def(self) -> &'static KindDef {
        match self {
            ObjectKind::Database => &DATABASE,
            ObjectKind::Schema => &SCHEMA,
            ObjectKind::Table => &TABLE,
            ObjectKind::Column => &COLUMN,
            ObjectKind::Sequence => &SEQUENCE,
            ObjectKind::Routine => &ROUTINE,
            ObjectKind::Type => &TYPE,
            ObjectKind::Language => &LANGUAGE,
            ObjectKind::ForeignDataWrapper => &FOREIGN_DATA_WRAPPER,
            ObjectKind::ForeignServer => &FOREIGN_SERVER,
            ObjectKind::LargeObject => &LARGE_OBJECT,
            ObjectKind::Tablespace => &TABLESPACE,
            ObjectKind::Parameter => &PARAMETER,
        }
    }

    /// The kind a desired file's word names (`table`, `functions`, …).
    pub fn from_word(word: &str) -> Option<ObjectKind> {
        ObjectKind::ALL
            .into_iter()
            .find(|k| k.def().words.contains(&word))
    }

    /// The word a desired file names the kind with, singular.
    pub fn word(self) -> &'static str {
        self.def().words[0]
    }

    /// The privileges objects of the kind have on a server of this version.
    pub fn privileges(self, server_version_num: u32) -> &'static [Privilege] {
        self.def().acl.privileges(server_version_num)
    }

    /// Every word `on:` takes, for messages.
    pub fn all_words() -> String {
        ObjectKind::ALL
            .iter()
            .map(|k| k.word())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each definition is the one its kind points at, and every word names
    /// one kind only.
    #[test]
    fn definitions_are_consistent() {
        let mut words = std::collections::HashSet::new();
        for kind in ObjectKind::ALL {
            assert_eq!(kind.def().kind, kind);
            for word in kind.def().words {
                assert!(words.insert(*word), "{word} names two kinds");
                assert_eq!(ObjectKind::from_word(word), Some(kind));
            }
            assert!(!kind.privileges(180000).is_empty());
        }
    }
}
