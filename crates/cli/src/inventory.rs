//! `pgsr inventory`: who can do what, from a snapshot or a live database
//! (read only), optionally against a desired file.

use crate::cli::InventoryArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::write_output;
use crate::plan::{located, read_desired, read_snapshot};
use pgsr_planner::inventory::{render, Format, Inventory, View};

pub fn run(args: InventoryArgs) -> Result<Code> {
    let desired = args.file.as_deref().map(read_desired).transpose()?;
    let snapshot = match &args.snapshot {
        Some(path) => read_snapshot(path)?,
        None => {
            let mut client = crate::inspect::connect(&args.db, &Default::default())?;
            let mut snapshot = pgsr_executor::inspect::inspect(&mut client)?;
            if let Some(d) = &desired {
                pgsr_executor::inspect::read_dependencies(&mut *client, &mut snapshot, d)?;
            }
            snapshot
        }
    };
    let inventory = Inventory::new(&snapshot);
    let view = if let (Some(d), Some(path)) = (&desired, &args.file) {
        let check = inventory.check(d).map_err(|m| located(path, None, &m))?;
        View::Check(check)
    } else if args.all {
        View::All {
            roles: inventory.all(args.include_system),
        }
    } else if let Some(role) = &args.role {
        View::Role(
            inventory
                .of_role(role, args.include_system)
                .map_err(Failure::new)?,
        )
    } else if let Some(object) = &args.object {
        View::Object(
            inventory
                .on_object(object, args.include_system)
                .map_err(Failure::new)?,
        )
    } else {
        View::Roles {
            roles: inventory.roles(args.include_system),
        }
    };
    let format = match args.format.as_str() {
        "json" => Format::Json,
        "csv" => Format::Csv,
        "markdown" => Format::Markdown,
        _ => Format::Table {
            color: args.output.is_none() && crate::color::stdout(),
        },
    };
    write_output(args.output.as_deref(), render(&view, format).as_bytes())?;
    let unclean = matches!(&view, View::Check(c) if !c.is_clean());
    Ok(if args.exit_code && unclean {
        Code::Changes
    } else {
        Code::Ok
    })
}
