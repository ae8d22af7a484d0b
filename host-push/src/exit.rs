//! Exit codes, and failures that carry one with a message naming the cause and the fix.

use std::fmt;

use llext_transports::client::ClientError;
use llext_transports::protocol::{Cause, ErrorCode};

/// Everything went as asked.
pub const OK: u8 = 0;
/// Usage errors and anything not listed below (unreadable file, bad ELF the host cannot pack...).
pub const OTHER: u8 = 1;
/// The extension has problems: found by `check` or before a push (nothing was sent), or reported
/// by the device while loading it (missing symbols, wrong architecture, bad relocation...).
pub const PROBLEMS: u8 = 2;
/// No device could be reached or understood: no port, nothing answering, the link lost, another
/// protocol version.
pub const UNREACHABLE: u8 = 3;
/// The device refused or failed the request (not loaded, in use, out of memory, no such symbol...).
pub const REFUSED: u8 = 4;

/// Extension code faulted during a call; the device contained the fault (exit 5 with the report).
pub const FAULTED: u8 = 5;

/// The exit codes as `host-push --help` and the README list them.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  usage error, or another failure (unreadable file, ...)
  2  the extension has problems: found by `check` or before a push (nothing was sent), or
     reported by the device while loading it (missing symbols, wrong architecture, ...)
  3  cannot reach the device: no port, no answer, link lost, protocol version mismatch
  4  the device refused or failed the request (not loaded, in use, out of memory, ...)
  5  the extension faulted (in this call or its constructors, or in an earlier call); the
     device contained it (report: kind, pc, lr, sp)";

/// A failure to report: `message` is one line, `details` are listed under it (every problem),
/// `hint` says what to do when the message does not.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
    /// Problems, one per line.
    pub details: Vec<String>,
    /// What to do.
    pub hint: Option<String>,
    /// The device's error code, when the device refused.
    pub device: Option<ErrorCode>,
}

impl Failure {
    /// A failure with exit code `code`.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
            hint: None,
            device: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the problems listed under the message.
    pub fn details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// A client error while `doing` something (`"push hello"`), with its exit code and a fix.
    pub fn client(e: ClientError, doing: &str) -> Self {
        match e {
            ClientError::Open { port, source } => {
                let fix = if port.starts_with("tcp:") {
                    "is sim-device (or a TCP bridge to the device) listening there?".to_string()
                } else {
                    match source.kind() {
                        std::io::ErrorKind::NotFound => {
                            "`host-push ports` lists the serial ports".to_string()
                        }
                        std::io::ErrorKind::PermissionDenied => {
                            "add yourself to the port's group (often `dialout`) and log in again"
                                .to_string()
                        }
                        _ => "is another program using the port?".to_string(),
                    }
                };
                Self::new(
                    UNREACHABLE,
                    format!("no device answered on {port}: cannot open it ({source})"),
                )
                .hint(fix)
            }
            ClientError::NoAnswer { port, waited } if port.starts_with("tcp:") => Self::new(
                UNREACHABLE,
                format!(
                    "the device on {port} took the connection but did not answer within {:.1} s",
                    waited.as_secs_f64()
                ),
            )
            .hint(
                "it serves one host at a time: is another host connected (a running `host-push monitor`)? \
                 It drops an idle host after its idle timeout (sim-device: 30 s). Else it is not running \
                 the llext firmware (or sim-device)",
            ),
            ClientError::NoAnswer { port, waited } => Self::new(
                UNREACHABLE,
                format!(
                    "no device answered on {port} within {:.1} s: is it running the llext firmware (or sim-device), and is the baud rate right (--baud)?",
                    waited.as_secs_f64()
                ),
            )
            .hint("the device serves one host at a time: close any other program on the port (a running `host-push monitor`)"),
            ClientError::VersionMismatch { device, host } => Self::new(
                UNREACHABLE,
                format!(
                    "protocol version mismatch: the device speaks version {device}, host-push speaks version {host}: update host-push or the firmware, whichever is older"
                ),
            ),
            ClientError::Device { code, cause } => {
                // A call's time limit over the device's maximum is a refused request, not a
                // problem of the extension (the device's code for it is `limit`).
                let too_long = match cause {
                    Cause::TimeLimitTooLong { max_ms, .. } => Some(max_ms),
                    _ => None,
                };
                let exit = if code == ErrorCode::Faulted {
                    FAULTED
                } else if is_extension_problem(code) && too_long.is_none() {
                    PROBLEMS
                } else {
                    REFUSED
                };
                let mut f = Self::new(
                    exit,
                    format!("{doing}: the device said: {cause} [{}]", code.name()),
                );
                f.device = Some(code);
                // A symbol name too long is said in full by the cause: no hint about symbols.
                let hint = match (too_long, &cause) {
                    (Some(max), _) => Some(format!("pass --timeout-ms {max} or less")),
                    (None, Cause::SymbolTooLong { .. }) => None,
                    (None, _) => device_hint(code).map(str::to_string),
                };
                match hint {
                    Some(h) => f.hint(h),
                    None => f,
                }
            }
            e @ ClientError::Disconnected { .. } => {
                Self::new(UNREACHABLE, format!("{doing}: {e}")).hint(
                    "the device ended the link: it may have crashed or reset (sim-device exits \
                     when an extension faults: its output says how); `host-push status` once it is back",
                )
            }
            e @ (ClientError::Timeout { .. } | ClientError::Io { .. }) => {
                Self::new(UNREACHABLE, format!("{doing}: {e}"))
            }
            e @ ClientError::TooLarge { .. } => Self::new(OTHER, format!("{doing}: {e}")),
            e @ ClientError::Faulted(_) => Self::new(FAULTED, format!("{doing}: {e}")),
            e @ ClientError::Unreadable { .. } => Self::new(REFUSED, format!("{doing}: {e}")),
        }
    }
}

/// Device error codes that say the extension itself is at fault.
fn is_extension_problem(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::MissingSymbols
            | ErrorCode::WrongArchitecture
            | ErrorCode::NotInStreamOrder
            | ErrorCode::BadElf
            | ErrorCode::UnsupportedRelocation
            | ErrorCode::Limit
    )
}

/// What to do about a device error, where its message does not already say.
fn device_hint(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::AlreadyLoaded => "push with --replace, or run `host-push unload NAME` first",
        ErrorCode::InUse => "unload the extensions that use it first (`host-push status`)",
        ErrorCode::OutOfMemory | ErrorCode::RegistryFull => {
            "unload extensions you no longer need (`host-push status` shows what is loaded)"
        }
        ErrorCode::NoSymbol => {
            "the symbol must be a global (not static) `int SYM(void)` function of that extension"
        }
        ErrorCode::NotCode => {
            "call a function (`int SYM(void)`); to read data, export a function that returns it"
        }
        ErrorCode::Timeout | ErrorCode::Interrupted | ErrorCode::ChecksumMismatch => {
            "the link lost or damaged data: push again"
        }
        ErrorCode::VersionMismatch => "update host-push or the firmware, whichever is older",
        ErrorCode::NotInstalled => "`host-push list` shows what is installed",
        ErrorCode::NotLoaded => {
            "`host-push status` shows what is loaded; an installed extension loads at boot (`host-push list`)"
        }
        _ => return None,
    })
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An error already reported (as text or JSON): exit with its code, print nothing more.
#[derive(Debug)]
pub struct Quiet(pub u8);

impl fmt::Display for Quiet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed (exit code {})", self.0)
    }
}

impl std::error::Error for Quiet {}

/// Prints `e` on stderr (or as one JSON object on stdout) and returns its exit code.
pub fn report(e: &anyhow::Error, json: bool) -> u8 {
    if let Some(q) = e.downcast_ref::<Quiet>() {
        return q.0;
    }
    let (code, message, details, hint) = match e.downcast_ref::<Failure>() {
        Some(f) => (f.code, f.message.clone(), f.details.clone(), f.hint.clone()),
        // One line with the whole cause chain, never a backtrace.
        None => (OTHER, format!("{e:#}"), Vec::new(), None),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "ok": false,
                "exit_code": code,
                "error": message,
                "problems": details,
                "hint": hint,
            })
        );
    } else {
        crate::output::clear_progress();
        eprintln!("error: {message}");
        for d in &details {
            eprintln!("  - {d}");
        }
        if let Some(h) = hint {
            eprintln!("  hint: {h}");
        }
    }
    code
}
