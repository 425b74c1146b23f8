//! `pgsr`: keep PostgreSQL roles and privileges exactly as declared.
//!
//! Thin glue: parse arguments, read and write files, call the planner and
//! the executor, and turn errors into one line and an exit code.

mod apply;
mod batch;
mod cli;
mod color;
mod docs;
mod exit;
mod files;
mod generate;
mod inspect;
mod inventory;
mod plan;
mod progress;
mod secrets;
mod show;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // clap's own message: the usage, or what `--help` and
            // `--version` asked for.
            let _ = e.print();
            return if e.exit_code() == 0 {
                exit::Code::Ok.into()
            } else {
                exit::Code::Usage.into()
            };
        }
    };
    color::set(args.color);
    let result = match args.command {
        cli::Command::Inspect(a) => inspect::run(a),
        cli::Command::Plan(a) => plan::run(a),
        cli::Command::Apply(a) => apply::run_apply(a),
        cli::Command::Show(a) => show::run(a),
        cli::Command::Sync(a) => apply::run_sync(a),
        cli::Command::Inventory(a) => inventory::run(a),
        cli::Command::Generate(a) => generate::run(a),
        cli::Command::Completions(a) => docs::completions(a),
        cli::Command::Man(a) => docs::man(a),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            // Whatever a message holds (names, paths, server messages), a
            // terminal gets no control character from it.
            eprintln!(
                "{} {}",
                color::paint("pgsr: error:", color::Style::Error, color::stderr()),
                pgsr_planner::display::escape(&e.message)
            );
            for detail in &e.details {
                eprintln!("pgsr: {}", pgsr_planner::display::escape(detail));
            }
            e.code.into()
        }
    }
}
