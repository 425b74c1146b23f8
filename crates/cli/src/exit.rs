//! Exit codes and the one-line error every failure becomes.

use pgsr_executor::{Error as ExecError, ErrorKind};
use std::process::ExitCode;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Success, or no changes.
    Ok = 0,
    /// Any error.
    Error = 1,
    /// `plan --exit-code`: there are changes.
    Changes = 2,
    /// The catalog changed since the plan was made.
    Stale = 3,
    /// A bad command line (BSD's `EX_USAGE`): an unknown flag, a missing
    /// argument, a bad value.
    Usage = 64,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// A failure: the message is printed as one line on standard error, the
/// details (if any) each on a line of their own after it.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub message: String,
    pub details: Vec<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        let message: String = message.into();
        Failure {
            code: Code::Error,
            message: message.replace('\n', " "),
            details: Vec::new(),
        }
    }
}

impl From<ExecError> for Failure {
    fn from(e: ExecError) -> Failure {
        let mut f = Failure::new(e.message);
        if e.kind == ErrorKind::Stale {
            f.code = Code::Stale;
        }
        f.details = e.details.iter().map(|d| d.replace('\n', " ")).collect();
        f
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
