//! `host-push monitor`: print the device's log lines until Ctrl-C or until the device goes away;
//! fault reports among them symbolized (`logfaults.rs`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::{Failure, UNREACHABLE};
use crate::logfaults::Loaded;
use crate::output;
use llext_transports::client::Client;

/// How often the monitor asks for the device's status to keep its link from going idle.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Print the device's log lines until Ctrl-C or until the device goes away, with the fault reports
/// among them symbolized.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// One JSON object per line on stdout (`{"line": ...}`)
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push monitor`.
pub fn run(args: &MonitorArgs) -> Result<()> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let queue = lines.clone();
    let mut conn = device::connect_with(&args.device, move |line| {
        queue.lock().expect("queue").push(line.to_string())
    })?;
    eprintln!(
        "monitoring {} on {} (Ctrl-C to stop)",
        device::describe(&conn.info),
        conn.port
    );
    let mut loaded = Loaded::default();
    let _ = loaded.refresh(&mut conn.client);
    let mut pinged = Instant::now();
    loop {
        let mut polled = conn.client.poll_logs(Duration::from_millis(500));
        let got = std::mem::take(&mut *lines.lock().expect("queue"));
        for line in &got {
            show(&loaded, &mut conn.client, line, args.json);
        }
        // A device ends links that send no request for its idle timeout (30 s by default):
        // ask for its status now and then to stay connected (and see what is loaded).
        if polled.is_ok() && pinged.elapsed() >= KEEP_ALIVE {
            polled = loaded.refresh(&mut conn.client);
            pinged = Instant::now();
        }
        if let Err(e) = polled {
            let f = Failure::client(e, "monitor");
            return Err(Failure::new(
                UNREACHABLE,
                format!("the device on {} went away ({})", conn.port, f.message),
            )
            .into());
        }
    }
}

/// Prints a device line, and below it what its fault report names (`  - in f+0x4 (a.c:3) ...`).
fn show(loaded: &Loaded, client: &mut Client, line: &str, json: bool) {
    let notes = loaded.annotate(client, line);
    if json {
        let mut v = json!({"line": line});
        if !notes.is_empty() {
            v["symbolized"] = json!(notes);
        }
        output::json(&v);
        return;
    }
    println!("{}", output::printable(line));
    for n in notes {
        println!("  - {n}");
    }
}
