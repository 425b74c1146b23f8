//! `pgsr._engine`: pgsr's planner for the Python package.
//!
//! The Python layer (`python/pgsr/__init__.py`) holds the caller's
//! connection and moves rows and statements; everything else happens here,
//! with the same code the `pgsr` binary runs: the desired state is parsed
//! by `pgsr_planner::desired::parse`, the catalog statement is the
//! executor's (`pgsr_executor::inspect::catalog_statements`, its rows read back by
//! `snapshot_from_rows`), and the plan is `pgsr_planner::plan::plan`,
//! rendered by its renderer.
//!
//! ```python
//! from pgsr import _engine
//! sync = _engine.Sync('{"roles": [{"name": "alice"}]}', drop_unused=False)
//! version, taken, iterations, *_ = fetch(sync.begin_statement())[0]
//! reads, params = sync.catalog_statements(version)
//! rows = fetch(reads[0], params)              # then reads[1] if any and
//! if len(reads) > 1 and sync.needs_objects(rows):  # needs_objects says so
//!     rows += fetch(reads[1], params)
//! statements, warnings = sync.plan(rows, iterations)  # run these, in order
//! ```

mod children;

use pgsr_executor::inspect::snapshot_from_rows;
use pgsr_planner::desired::{self, Desired, PasswordSource};
use pgsr_planner::plan::{self, PlanOptions};
use pgsr_planner::quote::{quote_ident, quote_literal};
use pgsr_planner::scram;
use pgsr_planner::snapshot::Scope;
use pgsr_planner::statement::StatementKind;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(
    _engine,
    PgsrError,
    PyException,
    "An error of pgsr, with the one-line message the command line gives."
);

/// One sync: a desired state, the part of the catalog it needs, and its
/// plan against rows of that part.
#[pyclass(frozen)]
struct Sync {
    /// The desired state as given (JSON), from which `desired` was parsed.
    source: String,
    desired: Desired,
    scope: Scope,
    options: PlanOptions,
    /// Grants that reach the children of the tables they name, not yet
    /// added (see `children_statement`).
    children_of: Vec<children::Wanted>,
}

#[pymethods]
impl Sync {
    /// `desired` is a desired file's JSON; with `drop_unused`, the plan
    /// drops intermediate roles nothing uses (and reads the whole catalog).
    /// `children_of` lists `table_select` grants, as `(role, schema, table,
    /// table_regex, direct)`, that also reach the direct children of the
    /// tables they name: read them with `children_statement`, then plan
    /// with the Sync `with_children` gives.
    #[new]
    #[pyo3(signature = (desired, drop_unused=false, children_of=Vec::new()))]
    #[allow(clippy::type_complexity)]
    fn new(
        desired: &str,
        drop_unused: bool,
        children_of: Vec<(String, String, Option<String>, Option<String>, bool)>,
    ) -> PyResult<Sync> {
        let children_of = children_of
            .into_iter()
            .map(|(role, schema, table, regex, direct)| children::Wanted {
                role,
                schema,
                table,
                regex,
                direct,
            })
            .collect();
        Sync::parse(desired, drop_unused, children_of)
    }

    /// The statement that reads the direct children of the tables
    /// `children_of` names, with its parameters, when it names any.
    fn children_statement(
        &self,
    ) -> Option<(
        &'static str,
        std::collections::BTreeMap<String, Vec<String>>,
    )> {
        if self.children_of.is_empty() {
            return None;
        }
        let params = [("p1".to_owned(), children::schemas(&self.children_of))];
        Some((children::STATEMENT, params.into_iter().collect()))
    }

    /// This sync with a `table_select` of each child in `rows` (of
    /// `children_statement`) of a table its `children_of` names.
    fn with_children(&self, rows: Vec<Vec<Option<String>>>) -> PyResult<Sync> {
        let desired =
            children::add(&self.source, &self.children_of, &rows).map_err(PgsrError::new_err)?;
        Sync::parse(&desired, self.options.drop_unused, Vec::new())
    }

    /// The first statement of a sync's transaction, before the catalog is
    /// read: it returns the server's `server_version_num`, whether
    /// `pg_try_advisory_xact_lock` took the desired state's lock and
    /// `scram_iterations` (PostgreSQL 16 and later; NULL before), and sets
    /// for this transaction only an empty `search_path` (the catalog's
    /// names cannot be redirected), generic plans for the catalog
    /// statements, which the driver prepares (a custom plan for each call
    /// costs more than the read), and the settings of a scoped read.
    fn begin_statement(&self) -> String {
        let mut sql = format!(
            "SELECT pg_catalog.current_setting('server_version_num')::int, \
             pg_catalog.pg_try_advisory_xact_lock({}), \
             pg_catalog.current_setting('scram_iterations', true), \
             pg_catalog.set_config('search_path', '', true), \
             pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true)",
            self.desired.lock_key
        );
        if let Some(settings) = pgsr_executor::inspect::scoped_read_settings(&self.scope) {
            sql.push_str(", ");
            sql.push_str(settings);
        }
        sql
    }

    /// The statements that read what the plan needs of the catalog, on a
    /// server of `server_version_num`, every column as text. Their text
    /// does not change from one sync to the next (a driver prepares
    /// them); it is in the drivers' `pyformat` style (`%(p1)s`, a `%` doubled), with their parameters:
    /// `[base, objects]` for a sync of roles that names no object (run the
    /// second only when `needs_objects` says so of the first's rows),
    /// `[all]` otherwise.
    fn catalog_statements(
        &self,
        server_version_num: u32,
    ) -> (Vec<String>, std::collections::BTreeMap<String, Vec<String>>) {
        let (statements, values) =
            pgsr_executor::inspect::catalog_statements(&self.scope, server_version_num);
        let statements = statements
            .into_iter()
            .map(|sql| {
                let mut sql = sql.replace('%', "%%");
                // Highest first: `$1` is a prefix of nothing here (six at most).
                for i in (1..=values.len()).rev() {
                    sql = sql.replace(&format!("${i}"), &format!("%(p{i})s::text[]"));
                }
                sql
            })
            .collect();
        let params = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("p{}", i + 1), v))
            .collect();
        (statements, params)
    }

    /// Whether the objects' statement is needed after the base rows.
    fn needs_objects(&self, rows: Vec<Vec<Option<String>>>) -> PyResult<bool> {
        pgsr_executor::inspect::needs_objects(&self.scope, &rows)
            .map_err(|e| PgsrError::new_err(e.message))
    }

    /// The statements that make the catalog (the rows of `catalog_statements`)
    /// match the desired state, in order; none when it already does.
    /// Passwords are sent as SCRAM verifiers with a fresh salt, hashed
    /// `scram_iterations` times (as `begin_statement` read it; never fewer
    /// than PostgreSQL's default).
    /// The plan's warnings come beside them, in the command line's words.
    #[pyo3(signature = (rows, scram_iterations=None))]
    fn plan(
        &self,
        rows: Vec<Vec<Option<String>>>,
        scram_iterations: Option<&str>,
    ) -> PyResult<(Vec<String>, Vec<String>)> {
        let iterations = scram_iterations
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
            .max(scram::DEFAULT_ITERATIONS);
        let snapshot =
            snapshot_from_rows(&self.scope, &rows).map_err(|e| PgsrError::new_err(e.message))?;
        let plan = plan::plan(&snapshot, &self.desired, &self.options)
            .map_err(|e| PgsrError::new_err(e.to_string()))?;
        let mut out = Vec::new();
        for statement in plan::statements(&plan) {
            if statement.kind != StatementKind::SetPassword {
                out.push(statement.sql);
                continue;
            }
            let role = statement.objects.first().cloned().unwrap_or_default();
            out.push(self.password_statement(&role, iterations)?);
        }
        Ok((out, plan.warnings))
    }
}

impl Sync {
    fn parse(
        source: &str,
        drop_unused: bool,
        children_of: Vec<children::Wanted>,
    ) -> PyResult<Sync> {
        let desired = desired::parse(source.as_bytes()).map_err(|e| {
            PyValueError::new_err(format!("{}:{}: {}", e.span.line, e.span.column, e.message))
        })?;
        let options = PlanOptions {
            drop_unused,
            ..PlanOptions::default()
        };
        let scope = pgsr_executor::sync::scope(&desired, &options, drop_unused);
        Ok(Sync {
            source: source.to_owned(),
            desired,
            scope,
            options,
            children_of,
        })
    }

    /// `ALTER ROLE … WITH PASSWORD '<verifier>'` for the role whose SQL
    /// name is `quoted`, from the password the desired state holds.
    fn password_statement(&self, quoted: &str, iterations: u32) -> PyResult<String> {
        let role = self
            .desired
            .roles
            .iter()
            .find(|r| quote_ident(&r.name) == quoted)
            .ok_or_else(|| {
                PgsrError::new_err("a password for a role the desired state does not name")
            })?;
        let Some(PasswordSource::Literal(secret)) = role.login.as_ref().map(|l| &l.password) else {
            return Err(PgsrError::new_err(format!(
                "{}: a password is set, but the desired state holds none",
                role.name
            )));
        };
        let mut salt = [0u8; scram::SALT_BYTES];
        getrandom::fill(&mut salt)
            .map_err(|e| PgsrError::new_err(format!("cannot draw a random salt: {e}")))?;
        let verifier = scram::verifier(secret.expose(), &salt, iterations);
        Ok(format!(
            "ALTER ROLE {} WITH PASSWORD {}",
            quoted,
            quote_literal(&verifier)
        ))
    }
}

/// Why `pattern` (Python `re` syntax, already checked for constructs only
/// Python has) is no regular expression of pgsr's engine, or None.
#[pyfunction]
fn regex_error(pattern: &str) -> Option<String> {
    regex::Regex::new(pattern).err().map(|e| {
        e.to_string()
            .lines()
            .last()
            .unwrap_or("not a regular expression")
            .trim()
            .to_owned()
    })
}

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Sync>()?;
    m.add_function(wrap_pyfunction!(regex_error, m)?)?;
    m.add("PgsrError", m.py().get_type::<PgsrError>())?;
    Ok(())
}
