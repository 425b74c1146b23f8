use std::fmt;

/// What went wrong, coarsely: it decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad arguments or input files.
    Usage,
    /// The server could not be reached or refused the connection.
    Connection,
    /// A query failed.
    Database,
    /// The catalog changed since the plan was made.
    Stale,
}

/// An executor error: one line of text for the user, and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Lines that say more, shown after the error's line (such as what
    /// changed in the catalog since a plan was made).
    pub details: Vec<String>,
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Usage,
            message: message.into(),
            details: Vec::new(),
        }
    }
    pub fn connection(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Connection,
            message: message.into(),
            details: Vec::new(),
        }
    }
    pub fn database(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Database,
            message: message.into(),
            details: Vec::new(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
