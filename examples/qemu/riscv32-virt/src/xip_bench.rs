//! With `bench` and `--flash`: the embedded large extension installed into the CFI flash, then
//! loaded from it, once normally and once in place, counting guest instructions
//! (`llext-fw: xip-bench ...` in the device log): what an execute-in-place install costs at
//! install time and saves at each boot.

use llext_loader::memory::{Counting, MemKind, PoolProvider};
use llext_loader::{LoadParams, Registry};
use llext_storage::{InstallOptions, Storage, XipConfig};

use crate::flash::Pflash;
use crate::time::instret;

type Reg<'p> = Registry<Counting<&'p mut PoolProvider>, llext_loader::symbols::ExportTable, 2>;

/// Installs `ext` as `name` (in place or not); guest instructions taken and the most pool RAM
/// held meanwhile (the link's scratch: tables, trampolines and, before the page-at-a-time link,
/// text and rodata).
async fn install(
    st: &mut Storage<Pflash, 16>,
    reg: &mut Reg<'_>,
    name: &str,
    ext: &[u8],
    xip: bool,
) -> Result<(u64, usize), ()> {
    let before = reg.provider().usage().total;
    reg.provider_mut().reset_peak();
    let start = instret();
    let crc = llext_storage::CRC32.checksum(ext);
    let mut ins = st.installer();
    let opts = InstallOptions::default();
    let mut at = ins
        .begin(name, ext.len() as u32, crc, opts)
        .await
        .map_err(|_| ())?;
    while (at as usize) < ext.len() {
        let end = (at as usize + 1024).min(ext.len());
        at = ins.write(at, &ext[at as usize..end]).await.map_err(|_| ())?;
    }
    let done = if xip {
        ins.finish_xip(reg, &LoadParams::default(), &mut |_| {}).await
    } else {
        ins.finish().await
    };
    done.map_err(|_| ())?;
    let took = instret().wrapping_sub(start);
    Ok((took, reg.provider().usage().peak - before))
}

/// Loads `name` from flash as a boot does (CRC checked); guest instructions taken and RAM held
/// (from the pool, plus data and bss in the reserved area for an in-place image).
async fn load(st: &mut Storage<Pflash, 16>, reg: &mut Reg<'_>, name: &str) -> Result<(u64, usize), ()> {
    let before = reg.provider().inner().used();
    let start = instret();
    let slot = st
        .load(name, reg, &LoadParams::default(), &mut |_| {})
        .await
        .map_err(|_| ())?
        .map_err(|_| ())?;
    let took = instret().wrapping_sub(start);
    let ext = reg.get(slot).ok_or(())?;
    let reserved: usize = match ext.in_place() {
        true => ext
            .regions()
            .filter(|r| matches!(r.kind, MemKind::Data | MemKind::Bss))
            .map(|r| r.size)
            .sum(),
        false => 0,
    };
    let held = reg.provider().inner().used() - before + reserved;
    let _ = reg.unload(slot);
    Ok((took, held))
}

/// What the bench measured: (install, boot load, held, install scratch peak) normally, in
/// place with the whole image's CRC checked at boot, and in place with what the load reads
/// checked; or why not.
pub type Figures = Result<[(u64, u64, usize, usize); 3], &'static str>;

/// The RAM bench's outcome and these figures, logged as two lines when a host first talks
/// (lines written before a host connects are lost on QEMU's UART): guest instructions to
/// install and to load at boot (in place: with the code's CRC, and without), the most pool RAM
/// an install held, RAM held while loaded.
pub struct Both(pub qemu_common::bench::Outcome, pub Figures);

impl core::fmt::Display for Both {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}\nllext-fw: xip-bench ", self.0)?;
        let ext = qemu_common::bench::extension().len();
        match &self.1 {
            Err(why) => f.write_str(why),
            Ok([(ni, nb, nh, np), (xi, xb, xh, xp), (_, xr, _, _)]) => write!(
                f,
                "packed={ext} normal: install={ni} peak={np} boot={nb} held={nh} | in-place: \
                 install={xi} peak={xp} boot={xb} boot_unchecked={xr} held={xh}"
            ),
        }
    }
}

/// Installs and loads the extension both ways.
pub async fn run(pool: &mut PoolProvider) -> Figures {
    let ext = qemu_common::bench::extension();
    if ext.is_empty() {
        return Err("no extension (no cross compiler at build time)");
    }
    let mut store = crate::store::open().await;
    let st = store.storage();
    let mut reg: Reg<'_> = Registry::new(Counting::new(pool), qemu_common::exports::EXPORTS);
    let mut figures = [(0, 0, 0, 0); 3];
    let cfg = st.xip().cloned().ok_or("no execute-in-place configuration")?;
    let runs = [("big", false, true), ("bigx", true, true), ("bigx", true, false)];
    for (i, (name, xip, code)) in runs.into_iter().enumerate() {
        let (inst, peak) = match i {
            2 => (0, 0),
            _ => install(st, &mut reg, name, ext, xip)
                .await
                .map_err(|_| "install failed")?,
        };
        st.set_xip(XipConfig {
            verify_code_at_boot: code,
            ..cfg.clone()
        });
        let (boot, held) = load(st, &mut reg, name)
            .await
            .map_err(|_| "load failed")?;
        figures[i] = (inst, boot, held, peak);
    }
    st.set_xip(cfg);
    Ok(figures)
}
