//! `pgsr sync --stdin-batch`: one desired document per line of standard
//! input, synced one after the other on one connection, one JSON result
//! per document on standard output.
//!
//! Each document is a sync of its own: its own transaction, advisory lock
//! and retries, exactly as `pgsr sync -f` with that document. A document
//! that fails (it does not parse, plans an error, or the database refuses
//! it) is reported on its line of output, and the batch goes on. Blank
//! lines are skipped. When the connection is lost, the next document
//! opens a new one (and a document whose sync lost it is synced once more
//! on the new one). The exit code is 0 when every document was synced,
//! 1 when any failed, or when the batch could not start (the first
//! connection, or standard input).

use crate::cli::SyncArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::DESIRED_FILE_BYTES;
use pgsr_executor::connect::Session;
use pgsr_executor::sync::{SyncError, SyncOptions, SyncOutcome};
use pgsr_executor::wait::Watch;
use pgsr_planner::desired;
use std::io::{BufRead, Write};
use std::time::Instant;

pub fn run(args: &SyncArgs) -> Result<Code> {
    let options = crate::apply::sync_options(args);
    let mut session = Some(connect(args)?);
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut line = 0usize;
    let mut failed = false;
    loop {
        let text = match read_line(&mut input, DESIRED_FILE_BYTES as usize) {
            Ok(Some(text)) => text,
            Ok(None) => break,
            Err(e) => return Err(Failure::new(format!("cannot read standard input: {e}"))),
        };
        line += 1;
        let started = Instant::now();
        let result = match text {
            Line::TooLong => {
                Err("the line is longer than 16 MiB, the limit for a desired document".to_owned())
            }
            Line::Text(text) if text.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Text(text) => one(&mut session, args, &options, &text),
        };
        let mut record = serde_json::Map::new();
        record.insert("line".into(), line.into());
        match result {
            Ok(outcome) => {
                if outcome.applied {
                    record.insert("result".into(), "applied".into());
                    record.insert("statements".into(), outcome.statements.into());
                } else {
                    record.insert("result".into(), "no changes".into());
                }
                record.insert("round_trips".into(), outcome.round_trips.into());
            }
            Err(message) => {
                failed = true;
                record.insert("result".into(), "error".into());
                record.insert("error".into(), message.into());
            }
        }
        record.insert(
            "seconds".into(),
            serde_json::json!((started.elapsed().as_secs_f64() * 1e6).round() / 1e6),
        );
        let mut bytes = serde_json::to_vec(&record).expect("JSON");
        bytes.push(b'\n');
        // Each result is written as soon as it is known: a caller may wait
        // for it before sending the next document.
        output
            .write_all(&bytes)
            .and_then(|()| output.flush())
            .map_err(|e| Failure::new(format!("cannot write standard output: {e}")))?;
    }
    Ok(if failed { Code::Error } else { Code::Ok })
}

/// A connection that plans its catalog statements once.
fn connect(args: &SyncArgs) -> Result<Session> {
    let mut session = crate::inspect::connect(&args.db, &args.timeouts.timeouts())?;
    session.plan_once()?;
    Ok(session)
}

/// Syncs one document. A connection that was lost is opened again first.
fn one(
    session: &mut Option<Session>,
    args: &SyncArgs,
    options: &SyncOptions,
    text: &[u8],
) -> std::result::Result<SyncOutcome, String> {
    let where_ = |line: usize, column: usize, message: &str| -> String {
        if line > 1 {
            format!("line {line} of the document, column {column}: {message}")
        } else {
            format!("column {column}: {message}")
        }
    };
    let desired =
        desired::parse(text).map_err(|e| where_(e.span.line, e.span.column, &e.message))?;
    desired
        .check_passwords(
            |name| std::env::var(name).ok(),
            crate::secrets::read_password_file,
        )
        .map_err(|e| where_(e.span.line, e.span.column, &e.message))?;
    let passwords = crate::secrets::password(Some(&desired));
    let look =
        crate::apply::watch_connection(crate::inspect::conninfo(&args.db).map_err(|f| f.message)?);
    let mut progress = |_, _| {};
    let mut watch = Watch {
        progress: &mut progress,
        waiting: &crate::apply::waiting,
        connect: &look,
        timeouts: args.timeouts.timeouts(),
    };
    let mut retried = false;
    let outcome = loop {
        if session.as_ref().is_none_or(|s| s.is_closed()) {
            *session = None;
            *session = Some(connect(args).map_err(|f| f.message)?);
        }
        let client = session.as_mut().expect("connected");
        match pgsr_executor::sync::sync(client, &desired, options, &passwords, &mut watch) {
            Ok(outcome) => break outcome,
            // The connection was lost (the server restarted, a pooler
            // closed it): sync again on a new one, once. Planning again
            // from what is there is safe whatever the lost sync did.
            Err(SyncError::Exec(_)) if !retried && client.is_closed() => retried = true,
            Err(SyncError::Plan(e)) => {
                return Err(match e.span {
                    Some(s) => where_(s.line, s.column, &e.message),
                    None => e.message,
                })
            }
            Err(SyncError::Exec(e)) => return Err(Failure::from(e).message),
        }
    };
    Ok(outcome)
}

enum Line {
    Text(Vec<u8>),
    TooLong,
}

/// The next line (without its newline), `None` at the end of the input. A
/// line longer than `limit` is skipped to its end and reported as such, so
/// that an endless line cannot exhaust memory.
fn read_line<R: BufRead>(input: &mut R, limit: usize) -> std::io::Result<Option<Line>> {
    let mut text = Vec::new();
    let n = std::io::Read::take(&mut *input, limit as u64 + 1).read_until(b'\n', &mut text)?;
    if n == 0 {
        return Ok(None);
    }
    if text.last() == Some(&b'\n') {
        text.pop();
        if text.last() == Some(&b'\r') {
            text.pop();
        }
        return Ok(Some(Line::Text(text)));
    }
    if text.len() <= limit {
        // The last line, without a newline.
        return Ok(Some(Line::Text(text)));
    }
    // Too long: skip to the end of the line.
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                break;
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
    Ok(Some(Line::TooLong))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<Option<Vec<u8>>> {
        let mut input = input;
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut input, limit).unwrap() {
            out.push(match line {
                Line::Text(t) => Some(t),
                Line::TooLong => None,
            });
        }
        out
    }

    #[test]
    fn lines_and_their_limit() {
        assert_eq!(
            lines(b"ab\r\n\ncd", 4),
            vec![Some(b"ab".to_vec()), Some(vec![]), Some(b"cd".to_vec())]
        );
        assert_eq!(
            lines(b"abcdefgh\nxy\n", 4),
            vec![None, Some(b"xy".to_vec())]
        );
        assert_eq!(lines(b"abcd\n", 4), vec![Some(b"abcd".to_vec())]);
        assert_eq!(lines(b"abcde", 4), vec![None]);
    }
}
