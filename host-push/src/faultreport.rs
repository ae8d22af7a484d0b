//! A contained fault in words: kind, where (symbolized from the kept ELF), and for a Rust panic
//! its message and location, from the device's `panicked at FILE:LINE:COLUMN: MESSAGE` line.

use llext_transports::client::{Client, ClientError, Listing};
use llext_transports::protocol::{FaultKind, FaultReport, RegionKind};

use crate::exit::{FAULTED, Failure};
use crate::output;
use crate::placed::Placed;

/// The failure of `doing` (`call NAME SYM`) for a client error; a fault is reported in full
/// (symbolized, with a panic's message).
pub fn call_failure(client: &mut Client, name: &str, e: ClientError, doing: &str) -> anyhow::Error {
    let ClientError::Faulted(r) = e else {
        return Failure::client(e, doing).into();
    };
    let placed = Placed::query(client, name).ok();
    let what = match r.kind {
        FaultKind::Panic => "panicked",
        _ => "faulted",
    };
    let mut details = Vec::new();
    if r.kind == FaultKind::Panic
        && let Some(line) = panic_line(&output::device_lines(), r.status)
    {
        let at = line["panicked at ".len()..].split(':').next().unwrap_or("");
        let function = placed.as_ref().and_then(|p| p.function_at(at, r.status));
        details.push(line.clone());
        details.extend(function.map(|f| format!("in {f}")));
    }
    let installed = installed_version(client, name, placed.as_ref());
    details.extend(lines_of(client, name, placed.as_ref(), installed, &r));
    let hint = match installed {
        Some(_) => format!(
            "fix it, then `host-push install` the fixed build: the faulted copy takes no calls until `host-push unload {name}`, and the installed version loads again at the next boot"
        ),
        None => format!("fix it, then `host-push unload {name}` and push it again"),
    };
    Failure::new(
        FAULTED,
        format!("{doing}: `{name}` {what}; the device contained it and marked it faulted"),
    )
    .details(details)
    .hint(hint)
    .into()
}

/// [`lines`] of `name`'s fault; for an extension loaded from flash (`installed` version: in
/// place, or at boot) the device keeps no section addresses, but the image kept at install,
/// linked as the device lays it out, places the pc's text offset.
pub fn lines_of(
    client: &mut Client,
    name: &str,
    placed: Option<&Placed>,
    installed: Option<u32>,
    r: &FaultReport,
) -> Vec<String> {
    let mut report = lines(placed, r);
    if let (Some(v), Some(RegionKind::Text), Some(first)) =
        (installed, r.region, report.first_mut())
        && !first.contains(" in ")
        && let Some(at) = crate::bootfault::describe(client, name, v, r.offset.into())
    {
        first.push_str(&format!(" in {at}"));
    }
    report
}

/// The installed version of `name` when the extension loaded now came from flash (the device
/// placed no sections for it).
pub fn installed_version(client: &mut Client, name: &str, placed: Option<&Placed>) -> Option<u32> {
    if placed.is_some_and(|p| !p.sections.is_empty()) {
        return None;
    }
    installed_in(&client.list().ok()?, name, placed)
}

/// [`installed_version`] from a listing already asked for.
pub fn installed_in(l: &Listing, name: &str, placed: Option<&Placed>) -> Option<u32> {
    if placed.is_some_and(|p| !p.sections.is_empty()) {
        return None;
    }
    let e = l.extensions.iter().find(|e| e.name == name && e.loaded)?;
    e.stored.as_ref().map(|s| s.active.version)
}

/// The device's last `panicked at FILE:LINE:COLUMN: MESSAGE` line for a panic at `line`.
pub fn panic_line(device_lines: &[String], line: u32) -> Option<String> {
    device_lines
        .iter()
        .rev()
        .find(|l| {
            l.strip_prefix("panicked at ")
                .and_then(|rest| rest.split(':').nth(1))
                .is_some_and(|n| n == line.to_string())
        })
        .map(|l| output::printable(l).into_owned())
}

/// A fault report in lines: kind and PC, LR and SP, the faulting address; addresses in the
/// extension's code as `function+offset (file:line)` when `placed` names them.
pub fn lines(placed: Option<&Placed>, r: &FaultReport) -> Vec<String> {
    let sym = |a: u64, ret| {
        placed
            .and_then(|p| p.symbolize(a, ret))
            .map_or(String::new(), |s| format!(" in {s}"))
    };
    if r.kind == FaultKind::Panic {
        // The PC is in the `llext_panic` call (the SDK's panic handler for Rust).
        return vec![
            format!(
                "panic (line {}): llext_panic called at {:#010x}{}",
                r.status,
                r.pc,
                sym(r.pc, false)
            ),
            format!("sp {:#010x}", r.sp),
        ];
    }
    let status = match r.kind {
        FaultKind::Timeout => format!("after {} ms", r.status),
        _ => format!("status {:#010x}", r.status),
    };
    let mut details = vec![format!(
        "{} ({status}) at pc {:#010x}{}",
        r.kind.name(),
        r.pc,
        sym(r.pc, false)
    )];
    details.push(format!(
        "lr {:#010x}{}, sp {:#010x}",
        r.lr,
        sym(r.lr & !1, true),
        r.sp
    ));
    if let Some(a) = r.addr {
        details.push(format!("faulting address {a:#010x}"));
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panic_line_is_the_last_one_at_the_reported_line() {
        let log = [
            "panicked at src/lib.rs:7:1: earlier".to_string(),
            "panicked at src/lib.rs:12:5: index out of bounds".to_string(),
            "panicked at src/lib.rs:7:1: later".to_string(),
        ];
        assert_eq!(
            panic_line(&log, 12).as_deref(),
            Some("panicked at src/lib.rs:12:5: index out of bounds")
        );
        assert_eq!(
            panic_line(&log, 7).as_deref(),
            Some("panicked at src/lib.rs:7:1: later")
        );
        assert_eq!(panic_line(&log, 3), None);
    }
}
