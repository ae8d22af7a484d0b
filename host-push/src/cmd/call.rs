//! `host-push call NAME SYM`: run `int SYM(void)` in a loaded extension, print `SYM = VALUE`.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::{faultreport, output};

/// Call `int SYM(void)` in a loaded extension and print `SYM = VALUE`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The extension's name on the device
    name: String,
    /// The function to call
    sym: String,
    /// Stop the call after this many milliseconds (a device that contains faults; default: the
    /// device's own limit, 3 s on the QEMU boards; sim-device enforces none and says so)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u32).range(1..))]
    timeout_ms: Option<u32>,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push call`.
pub fn run(args: &CallArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let doing = format!("call {} {}", args.name, args.sym);
    let limit = args.timeout_ms.unwrap_or(0);
    if limit > 0 && conn.info.time_limit_ms == 0 {
        // A device without a time limit (sim-device) runs the call to its end.
        output::note(&format!(
            "warning: {} enforces no time limit: --timeout-ms {limit} is not enforced (the call runs until it returns)",
            conn.info.name
        ));
    }
    let value = match conn.client.call_within(&args.name, &args.sym, limit) {
        Ok(v) => v,
        Err(e) => {
            return Err(faultreport::call_failure(
                &mut conn.client,
                &args.name,
                e,
                &doing,
            ));
        }
    };
    if args.json {
        output::json(&json!({
            "ok": true,
            "extension": args.name,
            "symbol": args.sym,
            "value": value,
            "log": output::device_lines(),
        }));
    } else {
        println!("{} = {value}", args.sym);
    }
    Ok(())
}
