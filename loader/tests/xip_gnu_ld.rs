//! Execute-in-place links (`llext_loader::xip::link`) checked byte for byte against GNU ld at the
//! same addresses: text, rodata and trampolines in a flash slot (riscv32-virt's bank 1), data and
//! bss in RAM 1.5 GiB away, as a device links them at install. RISC-V and ARM Thumb objects with
//! calls to the firmware, data and string pointers, pointer tables, jump tables, constructors and
//! COMMON. Without a cross toolchain the tests say so and pass.

mod common;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::gnu_ld::{Oracle, compare_linked, exports_for, without_merge};
use common::scratch;
use llext_loader::arch::Arch;
use llext_loader::link::{Linked, LinkedSection};
use llext_loader::memory::{HostProvider, MemKind};
use llext_loader::symbols::ExportList;
use llext_loader::xip::{self, Plan};
use llext_loader::{LoadParams, Registry, Report};

/// The execute-in-place slot's address (riscv32-virt: bank 1 at 0x22000000, slot 1).
const FLASH: u64 = 0x2210_0000;
/// The reserved RAM.
const RAM: Range<u64> = 0x8003_0000..0x8043_0000;

/// What a link in place made: the header, the image, and each placed section (index, region,
/// offset, size).
type InPlace = (xip::Header, Vec<u8>, Vec<(u32, MemKind, u32, u32)>);

/// Links `obj` in place on the host (data and bss built in scratch RAM).
fn link_in_place(
    obj: &[u8],
    arch: Arch,
    exports: &ExportList,
) -> Result<InPlace, llext_loader::Error> {
    let mut reg = Registry::<_, _, 1>::new(HostProvider::new(), exports.clone());
    let plan = Plan {
        flash: FLASH,
        room: 1 << 20,
        ram: &RAM,
        taken: &[],
        table_id: 7,
        ram_elsewhere: true,
    };
    let params = LoadParams {
        arch: Some(arch),
        ..LoadParams::default()
    };
    let mut placed = Vec::new();
    let mut report = |r: Report<'_>| {
        if let Report::Placed {
            section,
            kind,
            offset,
            size,
        } = r
        {
            placed.push((section, kind, offset, size));
        }
    };
    let mut io = Io {
        file: obj,
        image: Vec::new(),
    };
    let linked = futures::executor::block_on(xip::link(
        &mut reg,
        "x",
        &plan,
        &mut io,
        &params,
        &mut report,
    ))?;
    assert_eq!(
        io.image.len(),
        linked.len() as usize,
        "the whole image was written"
    );
    Ok((*linked.header(), io.image, placed))
}

/// Links `obj` in place and returns every loaded section at its address with its bytes from the
/// image, as [`compare_linked`] wants.
fn xip_link(obj: &[u8], arch: Arch, exports: &ExportList) -> Linked {
    let (h, image, placed) =
        link_in_place(obj, arch, exports).unwrap_or_else(|e| panic!("xip link: {e}"));
    assert!(h.region(MemKind::Text).0 >= FLASH && h.region(MemKind::Data).0 >= RAM.start);
    let sections = placed
        .iter()
        .map(|&(index, kind, offset, size)| {
            let addr = h.region(kind).0 + u64::from(offset);
            let at = match kind {
                MemKind::Bss => None,
                MemKind::Data => Some(h.data_init as usize + offset as usize),
                _ => Some((addr - FLASH) as usize),
            };
            LinkedSection {
                index,
                kind,
                addr,
                size: size.into(),
                bytes: at.map(|a| image[a..a + size as usize].to_vec()),
            }
        })
        .collect();
    Linked {
        arch,
        sections,
        extra: None,
        regions: [MemKind::Text, MemKind::Rodata, MemKind::Data, MemKind::Bss]
            .iter()
            .map(|&k| (k, h.region(k).0, h.region(k).1 as usize))
            .collect(),
    }
}

/// The file, and the image as the link hands it on (chunks at increasing offsets).
struct Io<'a> {
    file: &'a [u8],
    image: Vec<u8>,
}

impl xip::LinkIo for Io<'_> {
    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), llext_loader::Error> {
        let at = offset as usize;
        buf.copy_from_slice(&self.file[at..at + buf.len()]);
        Ok(())
    }

    async fn program(
        &mut self,
        offset: u32,
        bytes: &[u8],
        _: &xip::Header,
    ) -> Result<(), llext_loader::Error> {
        assert_eq!(
            offset as usize,
            self.image.len(),
            "chunks in order, none left out"
        );
        assert!((offset as usize).is_multiple_of(xip::CHUNK) && bytes.len() <= xip::CHUNK);
        self.image.extend_from_slice(bytes);
        Ok(())
    }
}

/// Compiles `tests/{dir}/{name}` with `gcc -c FLAGS`; `None` (said on stderr) without `gcc`.
fn compile(out: &Path, gcc: &str, dir: &str, name: &str, flags: &[&str]) -> Option<Vec<u8>> {
    let src: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", dir, name]
        .iter()
        .collect();
    let o = out.join(format!(
        "{name}.{}.o",
        flags.join("").replace(['-', '='], "")
    ));
    let Ok(r) = Command::new(gcc)
        .args(flags)
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&o)
        .output()
    else {
        eprintln!("skipped: {gcc} not installed");
        return None;
    };
    assert!(
        r.status.success(),
        "{gcc} {name}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    Some(std::fs::read(&o).unwrap())
}

fn check(label: &str, obj: &[u8], o: &Oracle<'_>) {
    let dir = scratch(label);
    // Packed, as every installed file is: relocations in address order (ld links it as it
    // links the object).
    let obj = llext_loader::pack::pack(&without_merge(obj), &Default::default()).expect("pack");
    let exports = exports_for(&obj, o);
    let linked = xip_link(&obj, o.arch, &exports);
    compare_linked(&dir, label, &obj, o, &exports, &linked);
}

/// GNU ld for RV32, the firmware's exports at 0x81000000.
const RISCV: Oracle<'static> = Oracle {
    ld: "riscv64-unknown-elf-ld",
    ld_args: &["-m", "elf32lriscv", "--no-relax"],
    base: FLASH,
    exports_base: 0x8100_0000,
    thumb_bit: false,
    arch: Arch::RiscV32,
};

#[test]
fn riscv_in_place_links_match_gnu_ld() {
    let o = RISCV;
    let dir = scratch("xip-rv");
    for opt in ["-Os", "-O2"] {
        let flags = [
            "-march=rv32imac",
            "-mabi=ilp32",
            "-ffreestanding",
            "-fcommon",
            opt,
        ];
        let Some(obj) = compile(&dir, "riscv64-unknown-elf-gcc", "riscv", "ext.c", &flags) else {
            return;
        };
        check(&format!("xip-rv-ext{opt}"), &obj, &o);
    }
}

/// PC-relative pairs far apart in address order (`riscv/window.S`): a `PCREL_LO12` 1.5 KiB ahead
/// of its `PCREL_HI20` (past the window) and one a little behind it link as GNU ld links them;
/// one 2 KiB behind is refused with a message that says what to do.
#[test]
fn riscv_pcrel_pairs_far_apart_link_in_place_a_window_at_a_time() {
    let o = RISCV;
    let dir = scratch("xip-rv-window");
    let gcc = "riscv64-unknown-elf-gcc";
    let flags = ["-march=rv32imac", "-mabi=ilp32", "-mno-relax"];
    let Some(obj) = compile(&dir, gcc, "riscv", "window.S", &flags) else {
        return;
    };
    check("xip-rv-window", &obj, &o);

    let far = [&flags[..], &["-DFAR_BACK"]].concat();
    let obj = compile(&dir, gcc, "riscv", "window.S", &far).unwrap();
    let obj = llext_loader::pack::pack(&obj, &Default::default()).expect("pack");
    let exports = exports_for(&obj, &o);
    let err = link_in_place(&obj, o.arch, &exports).expect_err("a pair 2 KiB apart");
    let text = err.to_string();
    assert!(text.contains("without --xip"), "{text}");
}

#[test]
fn arm_in_place_links_match_gnu_ld() {
    let o = Oracle {
        ld: "arm-none-eabi-ld",
        ld_args: &[],
        base: FLASH,
        // Within BL reach of the slot, as firmware functions in the same flash would be.
        exports_base: FLASH + 0x40_0000,
        thumb_bit: true,
        arch: Arch::Arm,
    };
    let dir = scratch("xip-arm");
    for name in ["data.c", "calls.c", "switch.c", "ctors.c"] {
        let flags = ["-mcpu=cortex-m3", "-mthumb", "-Os"];
        let Some(obj) = compile(&dir, "arm-none-eabi-gcc", "arm", name, &flags) else {
            return;
        };
        check(&format!("xip-arm-{name}"), &obj, &o);
    }
}
