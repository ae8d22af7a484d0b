//! Fuzzing the boot path of the real `sim-device`: mutated images (packed and not; section
//! header fields, ELF header fields, symbol and relocation entries pushed to extremes; flipped
//! bytes; truncations) installed for boot next to a good extension, then a restart. The device
//! must always come up (at the latest on the start after one that died or hung, as a watchdog
//! would restart a board), serve, and keep the good extension loaded and confirmed.
//!
//! `LLEXT_BOOT_FUZZ_ROUNDS=N` runs N rounds (default 40, about 10 s in debug); a failure names
//! the round and its seed, and `LLEXT_BOOT_FUZZ_SEED=S` starts from another seed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{SimDevice, build, build_raw, flash_file};
use llext_transports::client::{Client, InstallOptions};
use test_support::elf::{Field, field_position, section_count, section_field};
use test_support::rng::Rng;

const GOOD: &str = "int good(void) { return 4242; }\n";

const BASE: &str = r#"
#include <string.h>
static const char *names[] = { "alpha", "beta", "gamma" };
int counter = 7;
static int scratch[64];
static int twice(int x) { return 2 * x; }
int fz(void) {
    int n = 0;
    for (int i = 0; i < 3; i++)
        n += (int)strlen(names[i]);
    scratch[3] = twice(n);
    return n + counter + scratch[3];
}
"#;

/// A number below `n`.
fn pick(r: &mut Rng, n: usize) -> usize {
    r.below(n as u64) as usize
}

/// Values at the edges of every field width.
const EXTREMES: [u64; 11] = [
    0,
    1,
    0x7f,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ff00,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

fn extreme(r: &mut Rng, len: usize) -> u64 {
    match pick(r, 4) {
        0 => len as u64 + pick(r, 3) as u64,
        1 => r.next_u64(),
        _ => EXTREMES[pick(r, EXTREMES.len())],
    }
}

/// Where the fields and contents of each section of an unmutated image are.
struct Layout {
    /// Per section: each field's position and width, and the contents' range.
    sections: Vec<Section>,
}

/// The position and width of each of a section's [`FIELDS`], and its contents' offset and size.
type Section = ([(usize, usize); 5], (usize, usize));

const FIELDS: [Field; 5] = [
    Field::Offset,
    Field::Size,
    Field::Align,
    Field::Info,
    Field::Link,
];

impl Layout {
    fn of(img: &[u8]) -> Layout {
        let sections = (0..section_count(img))
            .map(|i| {
                let off = section_field(img, i, Field::Offset) as usize;
                let size = section_field(img, i, Field::Size) as usize;
                (FIELDS.map(|f| field_position(img, i, f)), (off, size))
            })
            .collect();
        Layout { sections }
    }
}

/// Writes the low `width` bytes of `v` at `at`, where the (maybe already cut) image has room.
fn put(img: &mut [u8], at: usize, width: usize, v: u64) {
    if let Some(dst) = img.get_mut(at..at + width) {
        dst.copy_from_slice(&v.to_le_bytes()[..width]);
    }
}

/// One mutation of `img` (laid out as `l`), described for the failure message.
fn mutate(img: &mut Vec<u8>, l: &Layout, r: &mut Rng) -> String {
    let i = pick(r, l.sections.len());
    let (fields, (off, size)) = l.sections[i];
    let v = extreme(r, img.len());
    match pick(r, 5) {
        0 => {
            let f = pick(r, FIELDS.len());
            let (at, width) = fields[f];
            put(img, at, width, v);
            format!("section {i} {:?} = {v:#x}", FIELDS[f])
        }
        1 => {
            // e_shoff, e_shentsize, e_shnum, e_shstrndx, e_ehsize (ELF64).
            let (at, width) = [(0x28, 8), (0x3a, 2), (0x3c, 2), (0x3e, 2), (0x34, 2)][pick(r, 5)];
            put(img, at, width, v);
            format!("ELF header at {at:#x} = {v:#x}")
        }
        2 => {
            // Inside a section's contents: symbols, relocations, code, strings.
            let at = off + pick(r, size) / 8 * 8;
            put(img, at, 8, v);
            format!("section {i} contents at {at:#x} = {v:#x}")
        }
        3 => {
            let flips: Vec<usize> = (0..1 + pick(r, 8)).map(|_| pick(r, img.len())).collect();
            for &at in &flips {
                img[at] ^= 1 << pick(r, 8);
            }
            format!("bits flipped at {flips:x?}")
        }
        _ => {
            let len = pick(r, img.len()).max(1);
            img.truncate(len);
            format!("cut to {len} bytes")
        }
    }
}

fn start(flash: &Path) -> Result<SimDevice, String> {
    SimDevice::try_start(
        Path::new(env!("CARGO_BIN_EXE_sim-device")),
        &["--flash", flash.to_str().expect("utf-8 path")],
        Duration::from_secs(20),
    )
}

/// Starts the device; a start that dies or hangs is followed by one more, which must come up.
fn start_after_restart(flash: &Path, case: &str) -> (SimDevice, bool) {
    match start(flash) {
        Ok(d) => (d, false),
        Err(first) => {
            let d = start(flash).unwrap_or_else(|e| panic!("{case}: {first}, then {e}"));
            (d, true)
        }
    }
}

fn install(dev: &SimDevice, name: &str, image: &[u8]) {
    let boot = InstallOptions {
        boot: true,
        version: None,
        xip: false,
    };
    let mut c = Client::connect(&dev.address).expect("connect");
    c.install(name, image, boot, |_| {})
        .unwrap_or_else(|e| panic!("install {name}: {e}"));
}

#[test]
fn mutated_images_installed_for_boot_never_keep_the_device_down_or_lose_the_good_one() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let rounds = env("LLEXT_BOOT_FUZZ_ROUNDS", 40);
    let seed = env("LLEXT_BOOT_FUZZ_SEED", 0x5eed_b007);
    let flash = flash_file("boot_fuzz");
    let (raw, packed) = (build_raw("fz", BASE), build("fz_packed", BASE));
    let (raw_layout, packed_layout) = (Layout::of(&raw), Layout::of(&packed));
    let dev = start(&flash).expect("first start");
    install(&dev, "good", &build("good", GOOD));
    drop(dev);

    let (mut deaths, mut loaded) = (0, 0);
    for round in 0..rounds {
        let s = seed.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut r = Rng(s | 1);
        let (kind, mut img, layout) = if pick(&mut r, 2) == 0 {
            ("unpacked", raw.clone(), &raw_layout)
        } else {
            ("packed", packed.clone(), &packed_layout)
        };
        let what: Vec<String> = (0..1 + pick(&mut r, 3))
            .map(|_| mutate(&mut img, layout, &mut r))
            .collect();
        let case = format!("round {round} (seed {s:#x}), {kind}, {what:?}");

        let (dev, _) = start_after_restart(&flash, &case);
        install(&dev, "fuzz", &img);
        drop(dev);
        let (dev, died) = start_after_restart(&flash, &case);
        deaths += usize::from(died);
        let mut c = Client::connect(&dev.address).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(c.call("good", "good").ok(), Some(4242), "{case}");
        let l = c.list().unwrap_or_else(|e| panic!("{case}: {e}"));
        let entry = |n: &str| l.extensions.iter().find(|e| e.name == n);
        let good = entry("good").unwrap_or_else(|| panic!("{case}: good is gone: {l:?}"));
        let state = &good.stored.as_ref().expect("installed").active.state;
        assert_eq!(state, "confirmed", "{case}");
        let fuzz = entry("fuzz").unwrap_or_else(|| panic!("{case}: fuzz not listed"));
        loaded += usize::from(fuzz.loaded);
        // Not loaded: it failed its trial (or it never finished), and is marked so.
        if !fuzz.loaded {
            let st = &fuzz.stored.as_ref().expect("installed").active.state;
            assert_eq!(st, "failed", "{case}: {l:?}");
        }
        c.remove("fuzz").unwrap_or_else(|e| panic!("{case}: {e}"));
    }
    eprintln!(
        "{rounds} mutated images booted: {loaded} loaded anyway, {deaths} starts died or hung \
         and were rolled back at the next"
    );
}
