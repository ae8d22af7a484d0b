//! Boot loading checks signatures again ([`Policy::verify_at_boot`]): before the storage boots,
//! the active image of every extension marked for boot (and the previous one, tried if the
//! active one fails) is read back from flash and verified. The storage's bringup hook then
//! refuses a refused image before any of its code runs, so the storage rolls it back as it does
//! a failed bringup, and the boot report says why.
//!
//! What it costs: one more read of each image and its SHA-256 (about 56 guest instructions per
//! byte on a Cortex-M3), plus one Ed25519 verification (about 1.64 M instructions) per image
//! (docs/PERFORMANCE.md).

use embedded_storage_async::nor_flash::NorFlash;
use llext_loader::Name;
use llext_sign::{Kind, Policy, Refusal};
use llext_storage::{Image, SlotReader, Storage};

use super::trust;

/// The verdicts of one extension's images, in the order boot brings them up.
#[derive(Clone, Copy)]
struct Checked {
    name: Name,
    /// Active, then previous: `Some` refusal when refused.
    verdicts: [Option<Refusal>; 2],
    /// Bringups seen so far.
    seen: u8,
}

/// The signature verdicts of the images a boot may bring up, for up to `N` extensions.
pub(super) struct BootChecks<const N: usize> {
    checked: [Option<Checked>; N],
}

async fn check_image<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    name: &str,
    img: &Image,
    policy: &Policy,
) -> Option<Refusal> {
    if img.xip.is_some() {
        // Linked in place by this device from a file whose signature it checked at install;
        // boot checks the linked image's CRC.
        return None;
    }
    let base = st.layout().slot(img.slot).start;
    let mut r = SlotReader::new(st.flash(), base, img.len);
    trust::check_read(&mut r, name, img.len, policy, Kind::Boot)
        .await
        .err()
}

impl<const N: usize> BootChecks<N> {
    /// Verifies the images of every extension marked for boot in `st`.
    pub async fn run<F: NorFlash>(st: &mut Storage<F, N>, policy: &Policy) -> Self {
        let mut checked = [None; N];
        let entries: [_; N] = core::array::from_fn(|i| st.list().nth(i).copied());
        for (e, out) in entries.iter().flatten().zip(checked.iter_mut()) {
            if !e.boot {
                continue;
            }
            let name = e.name.as_str();
            let active = check_image(st, name, &e.active, policy).await;
            let previous = match (active, &e.previous) {
                (Some(_), Some(p)) => check_image(st, name, p, policy).await,
                _ => None,
            };
            *out = Some(Checked {
                name: Name::new(name.as_bytes()),
                verdicts: [active, previous],
                seen: 0,
            });
        }
        Self { checked }
    }

    /// Called as boot brings `name` up: the refusal of the image it is, if refused.
    // Out of line: its two callers each carried a copy (measured).
    #[inline(never)]
    pub fn bringup(&mut self, name: &str) -> Option<Refusal> {
        let c = self
            .checked
            .iter_mut()
            .flatten()
            .find(|c| c.name.as_str() == name)?;
        let v = c.verdicts.get(c.seen as usize).copied().flatten();
        c.seen = c.seen.saturating_add(1);
        v
    }
}
