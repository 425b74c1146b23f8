//! `pgsr completions` and `pgsr man`: shell completions and manual pages
//! generated from the argument definitions, so they never drift from them.

use crate::cli::{Args, CompletionsArgs, ManArgs};
use crate::exit::{Code, Failure, Result};
use clap::CommandFactory;

pub fn completions(args: CompletionsArgs) -> Result<Code> {
    let mut command = Args::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "pgsr", &mut out);
    crate::files::write_output(None, &out)?;
    Ok(Code::Ok)
}

/// `pgsr.1` on standard output, or with `--dir` it and a page per command
/// (`pgsr-plan.1`, …) in that directory.
pub fn man(args: ManArgs) -> Result<Code> {
    let command = Args::command();
    let Some(dir) = args.dir else {
        crate::files::write_output(None, &page(&command)?)?;
        return Ok(Code::Ok);
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
    let mut pages = vec![("pgsr.1".to_owned(), page(&command)?)];
    for sub in command.get_subcommands() {
        let name = format!("pgsr-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("{name}.1"), page(&sub)?));
    }
    for (name, bytes) in pages {
        let path = dir.join(&name);
        std::fs::write(&path, bytes)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(Code::Ok)
}

fn page(command: &clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .map_err(|e| Failure::new(format!("cannot render the manual page: {e}")))?;
    Ok(out)
}
