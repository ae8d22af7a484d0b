//! Fault reports in device log lines, symbolized for `host-push monitor`: a constructor that
//! faulted at boot (`boot: NAME vV failed: a constructor faulted: KIND at text+0xOFF ...`, from
//! the image kept when it was installed), a panic (`panicked at FILE:LINE:COLUMN: ...`: the
//! function at that line), and any `pc`/`lr`/`ra` address inside a loaded extension, from the
//! placements of the extensions loaded when the monitor last looked (so a fault that stops the
//! firmware is still named).

use llext_transports::client::Client;

use crate::bootfault;
use crate::placed::Placed;

/// The loaded extensions' placements, and what they were taken from.
#[derive(Default)]
pub struct Loaded {
    /// `(name, image bytes, state)` of each extension when the placements were taken.
    seen: Vec<(String, u32, String)>,
    placed: Vec<(String, Placed)>,
}

impl Loaded {
    /// Takes the placements again when the loaded extensions changed since the last look.
    pub fn refresh(
        &mut self,
        client: &mut Client,
    ) -> Result<(), llext_transports::client::ClientError> {
        let st = client.status()?;
        let seen: Vec<(String, u32, String)> = st
            .extensions
            .iter()
            .map(|e| (e.name.clone(), e.image_bytes, e.state.to_string()))
            .collect();
        if seen != self.seen || self.placed.is_empty() && !seen.is_empty() {
            self.placed = seen
                .iter()
                .filter_map(|(n, _, _)| Some((n.clone(), Placed::query(client, n).ok()?)))
                .collect();
            self.seen = seen;
        }
        Ok(())
    }

    /// What `line` says, symbolized: one entry per address or report it names.
    pub fn annotate(&self, client: &mut Client, line: &str) -> Vec<String> {
        if let Some((name, version, reason)) = boot_failure(line) {
            return bootfault::describe_reason(client, name, version, reason)
                .map(|at| format!("{name} v{version}: in {at}"))
                .into_iter()
                .collect();
        }
        if let Some((file, at)) = panic_at(line) {
            return self
                .placed
                .iter()
                .find_map(|(n, p)| Some(format!("in {} of `{n}`", p.function_at(file, at)?)))
                .into_iter()
                .collect();
        }
        addresses(line)
            .filter_map(|(what, a)| {
                let (n, p) = self.placed.iter().find(|(_, p)| p.contains(a))?;
                let s = p.symbolize(a & !1, what != "pc")?;
                Some(format!("{what} {a:#010x} in {s} of `{n}`"))
            })
            .collect()
    }
}

/// `(name, version, reason)` of a boot report line `... boot: NAME vV failed: REASON`.
fn boot_failure(line: &str) -> Option<(&str, u32, &str)> {
    let rest = &line[line.find("boot: ")? + 6..];
    let (head, reason) = rest.split_once(" failed: ")?;
    let (name, version) = head.rsplit_once(" v")?;
    Some((name, version.parse().ok()?, reason))
}

/// `(file, line)` of a `panicked at FILE:LINE:COLUMN: MESSAGE` line.
fn panic_at(line: &str) -> Option<(&str, u32)> {
    let rest = &line[line.find("panicked at ")? + 12..];
    let mut parts = rest.splitn(3, ':');
    Some((parts.next()?, parts.next()?.parse().ok()?))
}

/// The `pc 0x...`, `lr 0x...` and `ra 0x...` addresses of a line.
fn addresses(line: &str) -> impl Iterator<Item = (&str, u64)> {
    line.split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | ':' | ';'))
        .collect::<Vec<_>>()
        .windows(2)
        .filter_map(|w| {
            let what = ["pc", "lr", "ra"].into_iter().find(|&k| k == w[0])?;
            let hex = w[1].trim_end_matches([':', '.']).strip_prefix("0x")?;
            Some((what, u64::from_str_radix(hex, 16).ok()?))
        })
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_boot_failures_panics_and_addresses() {
        let l = "llext-fw: boot: ext v2 failed: a constructor faulted: breakpoint at text+0x4 (pc 0x8043ca44)";
        assert_eq!(
            boot_failure(l),
            Some((
                "ext",
                2,
                "a constructor faulted: breakpoint at text+0x4 (pc 0x8043ca44)"
            ))
        );
        assert_eq!(boot_failure("boot: ext v1 loaded"), None);
        let p = "panicked at src/lib.rs:13:5: index out of bounds: a: b";
        assert_eq!(panic_at(p), Some(("src/lib.rs", 13)));
        let f = "llext-fw: fault outside extension code at pc 0x00001234, lr 0x20006089: stop";
        let got: Vec<_> = addresses(f).collect();
        assert_eq!(got, [("pc", 0x1234), ("lr", 0x2000_6089)]);
    }
}
