//! The load-time bench (`bench` feature): loads the embedded large extension from a stream over
//! its in-memory bytes and unloads it, counting guest instructions; the figures are logged once a
//! host talks (bytes sent to QEMU's UART before a client connects are lost).

use core::fmt::{self, Write as _};

use embedded_io_async::{ErrorType, Read, Write};
use llext_loader::memory::MemoryProvider;
use llext_loader::source::StreamSource;
use llext_loader::{Error, LoadParams, Registry};

/// The packed extension `build.rs` generated and compiled (empty if it could not), word-aligned
/// as a flash partition or a receive buffer is.
static EXTENSION: &[u8] = &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/bench.llext"))).0;

#[repr(C, align(8))]
struct Aligned<T: ?Sized>(T);

/// The embedded extension, packed (empty when there was no cross compiler).
pub fn extension() -> &'static [u8] {
    EXTENSION
}

/// What one bench run measured.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// No cross compiler when the firmware was built.
    Skipped,
    /// The load failed.
    Failed(Error),
    /// Loaded and unloaded.
    Done {
        /// Relocations applied.
        relocations: u32,
        /// Guest instructions of `Registry::load`.
        load: u64,
        /// Guest instructions of `Registry::unload`.
        unload: u64,
        /// The loader's most RAM beyond the final image during the load.
        transient_peak: usize,
        /// RAM held by the loaded extension (image and kept metadata).
        held: usize,
        /// Whether the unload succeeded.
        unloaded: bool,
    },
}

impl fmt::Display for Outcome {
    /// `packed=B relocations=R load_insns=I unload_insns=U insns_per_reloc=X.YY transient_peak=T
    /// held=H`, or `skipped: ...` / `failed: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Skipped => write!(f, "skipped: no cross compiler when the firmware was built"),
            Outcome::Failed(e) => write!(f, "failed: {e}"),
            Outcome::Done {
                relocations,
                load,
                unload,
                transient_peak,
                held,
                unloaded,
            } => {
                let per = load * 100 / u64::from((*relocations).max(1));
                write!(
                    f,
                    "packed={} relocations={relocations} load_insns={load} unload_insns={unload} \
                     insns_per_reloc={}.{:02} transient_peak={transient_peak} held={held}",
                    EXTENSION.len(),
                    per / 100,
                    per % 100,
                )?;
                if !unloaded {
                    write!(f, " unload=failed")?;
                }
                Ok(())
            }
        }
    }
}

/// Loads and unloads the extension once with `mem`, reading `instructions` (the board's guest
/// instruction counter) right before and after each step. Nothing else runs meanwhile: the source
/// never waits.
pub async fn run<P: MemoryProvider>(mem: P, instructions: fn() -> u64) -> Outcome {
    if EXTENSION.is_empty() {
        return Outcome::Skipped;
    }
    let mut reg = Registry::<_, _, 1>::new(mem, crate::exports::EXPORTS);
    let mut src = StreamSource::new(EXTENSION);
    let params = LoadParams::default();
    let start = instructions();
    let loaded = reg.load("bench", &mut src, &params, &mut |_| {}).await;
    let load = instructions().wrapping_sub(start);
    let slot = match loaded {
        Ok(slot) => slot,
        Err(e) => return Outcome::Failed(e),
    };
    let stats = reg.get(slot).map(|e| e.stats()).unwrap_or_default();
    let start = instructions();
    let unloaded = reg.unload(slot).is_ok();
    let unload = instructions().wrapping_sub(start);
    Outcome::Done {
        relocations: stats.relocations,
        load,
        unload,
        transient_peak: stats.transient_peak,
        held: stats.image_bytes + stats.kept_metadata,
        unloaded,
    }
}

/// A link that logs `llext-fw: bench OUTCOME` when the first bytes arrive from a host.
pub struct Announce<L, O = Outcome> {
    link: L,
    outcome: Option<O>,
}

impl<L, O: fmt::Display> Announce<L, O> {
    /// Wraps `link`; `outcome` is logged on the first read that returns data.
    pub fn new(link: L, outcome: O) -> Self {
        Self {
            link,
            outcome: Some(outcome),
        }
    }
}

impl<L: ErrorType, O> ErrorType for Announce<L, O> {
    type Error = L::Error;
}

impl<L: Read, O: fmt::Display> Read for Announce<L, O> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, L::Error> {
        let n = self.link.read(buf).await?;
        if n > 0
            && let Some(outcome) = self.outcome.take()
        {
            let _ = writeln!(crate::log::Writer, "llext-fw: bench {outcome}");
        }
        Ok(n)
    }
}

impl<L: Write, O> Write for Announce<L, O> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, L::Error> {
        self.link.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), L::Error> {
        self.link.flush().await
    }
}
