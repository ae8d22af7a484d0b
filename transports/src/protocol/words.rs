//! How a [`Cause`] travels: as [`Words`], one shape for every variant (its index, five numbers,
//! two strings and a fault report), so the device's encoder is one small function instead of
//! serde's code per variant and field. `docs/PROTOCOL.md` lists which slot holds what.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Cause, FaultReport, LoadError, RefusalCause, RegionKind};

/// A cause on the wire; unused numbers are 0 and unused strings empty.
#[derive(Serialize, Deserialize)]
pub struct Words<S> {
    /// The variant of [`Cause`], in declaration order.
    pub tag: u8,
    /// Its numbers.
    pub n: [u64; 5],
    /// Its strings.
    pub s: [S; 2],
    /// Its fault report (`ConstructorFaulted`).
    pub fault: Option<FaultReport>,
}

const REGIONS: [RegionKind; 5] = [
    RegionKind::Text,
    RegionKind::Rodata,
    RegionKind::Data,
    RegionKind::Bss,
    RegionKind::Trampoline,
];

fn region_number(r: Option<RegionKind>) -> u64 {
    r.map_or(0, |k| k as u64 + 1)
}

fn region(v: u64) -> Option<RegionKind> {
    REGIONS.get((v as usize).checked_sub(1)?).copied()
}

fn words<'a>(tag: u8, nums: &[u64], s: [&'a str; 2]) -> Words<&'a str> {
    let mut n = [0; 5];
    n[..nums.len()].copy_from_slice(nums);
    Words {
        tag,
        n,
        s,
        fault: None,
    }
}

impl<S: AsRef<str>> Cause<S> {
    /// Its words on the wire.
    pub fn words(&self) -> Words<&str> {
        use Cause as C;
        let load = |e: &LoadError<S>| [e.tag as u64, e.n[0], e.n[1], e.n[2], e.n[3]];
        match self {
            C::Undecodable { version } => words(0, &[*version as u64], ["", ""]),
            C::NoSuchExtension => words(1, &[], ["", ""]),
            C::NotLoaded { name } => words(2, &[], [name.as_ref(), ""]),
            C::SymbolTooLong { max } => words(3, &[*max as u64], ["", ""]),
            C::FaultedBefore { ext } => words(4, &[], [ext.as_ref(), ""]),
            C::NotExported { ext, symbol } => words(5, &[], [ext.as_ref(), symbol.as_ref()]),
            C::NotCode {
                ext,
                symbol,
                addr,
                region,
            } => words(
                6,
                &[*addr, region_number(*region)],
                [ext.as_ref(), symbol.as_ref()],
            ),
            C::EntriesNotCode { ext, addr, region } => {
                words(7, &[*addr, region_number(*region)], [ext.as_ref(), ""])
            }
            C::InUse { ext, by } => words(8, &[], [ext.as_ref(), by.as_ref()]),
            C::Unload { ext, error } => words(9, &load(error), [ext.as_ref(), error.s.as_ref()]),
            C::ConstructorFaulted { ext, fault } => Words {
                fault: Some(*fault),
                ..words(10, &[], [ext.as_ref(), ""])
            },
            C::BadName { max } => words(11, &[*max as u64], ["", ""]),
            C::EmptyInstall => words(12, &[], ["", ""]),
            C::TooLarge { len, max } => words(13, &[*len as u64, *max as u64], ["", ""]),
            C::AlreadyLoaded { name } => words(14, &[], [name.as_ref(), ""]),
            C::MissingSymbols { count, names } => words(15, &[*count as u64], [names.as_ref(), ""]),
            C::Load(error) => words(16, &load(error), ["", error.s.as_ref()]),
            C::Stalled {
                install,
                timeout_ms,
                at,
                total,
            } => words(
                17,
                &[
                    *install as u64,
                    *timeout_ms as u64,
                    *at as u64,
                    *total as u64,
                ],
                ["", ""],
            ),
            C::Interrupted { install, at, total } => {
                words(18, &[*install as u64, *at as u64, *total as u64], ["", ""])
            }
            C::LinkFailed => words(19, &[], ["", ""]),
            C::ChecksumMismatch => words(20, &[], ["", ""]),
            C::SignedVersion { name, signed, sent } => words(
                21,
                &[*signed as u64, sent.map_or(0, |v| v as u64 + 1)],
                [name.as_ref(), ""],
            ),
            C::Refused(r) => {
                let n: [u64; 3] = match *r {
                    RefusalCause::BadSignature => [0, 0, 0],
                    RefusalCause::Unsigned => [1, 0, 0],
                    RefusalCause::UnknownKey(id) => [2, u64::from_le_bytes(id), 0],
                    RefusalCause::Rollback { version, installed } => {
                        [3, version as u64, installed as u64]
                    }
                    RefusalCause::NoVerifier => [4, 0, 0],
                };
                words(22, &n, ["", ""])
            }
            C::NoStorage => words(23, &[], ["", ""]),
            C::Store { message } => words(24, &[], [message.as_ref(), ""]),
            C::TimeLimitTooLong { asked_ms, max_ms } => {
                words(25, &[*asked_ms as u64, *max_ms as u64], ["", ""])
            }
            C::NoXip => words(26, &[], ["", ""]),
        }
    }
}

impl<S: AsRef<str>> Serialize for Cause<S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        self.words().serialize(z)
    }
}

impl<S> Cause<S> {
    /// The cause these words describe; `None` for a variant this side does not know.
    pub fn from_words(w: Words<S>) -> Option<Self> {
        use Cause as C;
        let n = w.n;
        let [a, b] = w.s;
        let load = |s| LoadError {
            tag: n[0] as u8,
            n: [n[1], n[2], n[3], n[4]],
            s,
        };
        let opt = |v: u64| v.checked_sub(1).map(|v| v as u32);
        Some(match w.tag {
            0 => C::Undecodable {
                version: n[0] as u16,
            },
            1 => C::NoSuchExtension,
            2 => C::NotLoaded { name: a },
            3 => C::SymbolTooLong { max: n[0] as u16 },
            4 => C::FaultedBefore { ext: a },
            5 => C::NotExported { ext: a, symbol: b },
            6 => C::NotCode {
                ext: a,
                symbol: b,
                addr: n[0],
                region: region(n[1]),
            },
            7 => C::EntriesNotCode {
                ext: a,
                addr: n[0],
                region: region(n[1]),
            },
            8 => C::InUse { ext: a, by: b },
            9 => C::Unload {
                ext: a,
                error: load(b),
            },
            10 => C::ConstructorFaulted {
                ext: a,
                fault: w.fault?,
            },
            11 => C::BadName { max: n[0] as u16 },
            12 => C::EmptyInstall,
            13 => C::TooLarge {
                len: n[0] as u32,
                max: n[1] as u32,
            },
            14 => C::AlreadyLoaded { name: a },
            15 => C::MissingSymbols {
                count: n[0] as u32,
                names: a,
            },
            16 => C::Load(load(b)),
            17 => C::Stalled {
                install: n[0] != 0,
                timeout_ms: n[1] as u32,
                at: n[2] as u32,
                total: n[3] as u32,
            },
            18 => C::Interrupted {
                install: n[0] != 0,
                at: n[1] as u32,
                total: n[2] as u32,
            },
            19 => C::LinkFailed,
            20 => C::ChecksumMismatch,
            21 => C::SignedVersion {
                name: a,
                signed: n[0] as u32,
                sent: opt(n[1]),
            },
            22 => C::Refused(match n[0] {
                0 => RefusalCause::BadSignature,
                1 => RefusalCause::Unsigned,
                2 => RefusalCause::UnknownKey(n[1].to_le_bytes()),
                3 => RefusalCause::Rollback {
                    version: n[1] as u32,
                    installed: n[2] as u32,
                },
                4 => RefusalCause::NoVerifier,
                _ => return None,
            }),
            23 => C::NoStorage,
            24 => C::Store { message: a },
            25 => C::TimeLimitTooLong {
                asked_ms: n[0] as u32,
                max_ms: n[1] as u32,
            },
            26 => C::NoXip,
            _ => return None,
        })
    }
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for Cause<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Words::<S>::deserialize(d)?;
        let tag = w.tag;
        Cause::from_words(w).ok_or_else(|| D::Error::custom(UnknownCause(tag)))
    }
}

/// A cause this side does not know (a newer device).
struct UnknownCause(u8);

impl core::fmt::Display for UnknownCause {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "unknown error cause {}", self.0)
    }
}
