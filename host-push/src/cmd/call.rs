//! `host-push call NAME SYM`: run `int SYM(void)` in a loaded extension, print `SYM = VALUE`.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::{FAULTED, Failure};
use crate::output;
use crate::placed::Placed;
use llext_transports::client::{Client, ClientError};
use llext_transports::protocol::{FaultKind, FaultReport};

/// Call `int SYM(void)` in a loaded extension and print `SYM = VALUE`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The extension's name on the device
    name: String,
    /// The function to call
    sym: String,
    /// Stop the call after this many milliseconds (a device that contains faults; default: the
    /// device's own limit, 3 s on the QEMU boards)
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
    let value = match conn.client.call_within(&args.name, &args.sym, limit) {
        Ok(v) => v,
        Err(ClientError::Faulted(r)) => return Err(fault(&mut conn.client, &args.name, r, &doing)),
        Err(e) => return Err(Failure::client(e, &doing).into()),
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

/// A contained fault, symbolized from the kept ELF: `pc` and `lr` as `function+offset
/// (file:line)` where they are in the extension's code.
fn fault(client: &mut Client, name: &str, r: FaultReport, doing: &str) -> anyhow::Error {
    let placed = Placed::query(client, name).ok();
    let f = Failure::new(
        FAULTED,
        format!("{doing}: `{name}` faulted; the device contained it and marked it faulted"),
    )
    .details(fault_lines(placed.as_ref(), &r))
    .hint(format!(
        "fix it, then `host-push unload {name}` and push it again"
    ));
    f.into()
}

/// A fault report in lines: kind and PC, LR and SP, the faulting address; addresses in the
/// extension's code as `function+offset (file:line)` when `placed` names them.
pub fn fault_lines(placed: Option<&Placed>, r: &FaultReport) -> Vec<String> {
    let sym = |a: u64, ret| placed.and_then(|p| p.symbolize(a, ret));
    let status = match r.kind {
        FaultKind::Timeout => format!("after {} ms", r.status),
        _ => format!("status {:#010x}", r.status),
    };
    let mut details = vec![format!(
        "{} ({status}) at pc {:#010x}{}",
        r.kind.name(),
        r.pc,
        sym(r.pc, false).map_or(String::new(), |s| format!(" in {s}"))
    )];
    details.push(format!(
        "lr {:#010x}{}, sp {:#010x}",
        r.lr,
        sym(r.lr & !1, true).map_or(String::new(), |s| format!(" in {s}")),
        r.sp
    ));
    if let Some(a) = r.addr {
        details.push(format!("faulting address {a:#010x}"));
    }
    details
}
