//! `host-push ports`: the serial ports of this machine, with USB vendor and product ids.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device;
use crate::output;

/// List serial ports, with USB VID:PID, manufacturer, product and serial number.
#[derive(Debug, Args)]
pub struct PortsArgs {
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push ports`.
pub fn run(args: &PortsArgs) -> Result<()> {
    let ports = device::ports()?;
    if args.json {
        output::json(&json!({
            "ok": true,
            "ports": ports.iter().map(device::PortInfo::to_json).collect::<Vec<_>>(),
        }));
    } else if ports.is_empty() {
        println!("no serial ports found");
    } else {
        for p in &ports {
            println!("{}", p.describe());
        }
    }
    Ok(())
}
