//! The end of an install: its signature is checked against the policy, read back from flash,
//! before the catalog switches to it; a refused install is dropped (its slot free again) and
//! the installed version stays as it was.

use llext_loader::Name;
use llext_loader::memory::MemoryProvider;
use llext_sign::{Refusal, Verdict};

use super::install::{Begin, failure};
use super::store::ExtStore;
use super::{Device, Failure, LogSource, MemoryInfo, fail, failure, trust};
use crate::protocol::{Cause, InstallInfo};

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    /// Checks the signature of the install that received every byte (and, for a signed one,
    /// its version against the installed one), then switches the catalog to it.
    pub(super) async fn finish_install(
        &mut self,
        name: Name,
        b: &Begin,
    ) -> Result<InstallInfo, Failure> {
        let policy = self.config.trust;
        let checked = match self.store.check_signature(name.as_str(), &policy).await {
            Err(r) => Err(trust::refused(r)),
            Ok(Verdict::Unsigned) => Ok(()),
            Ok(Verdict::Signed { version, .. }) => self.check_version(&name, version, b.version),
        };
        if let Err(f) = checked {
            let _ = self.store.abort().await;
            return Err(f);
        }
        if b.xip {
            let params = llext_loader::LoadParams {
                limits: self.config.limits,
                arch: llext_loader::arch::Arch::native(),
            };
            return self
                .store
                .finish_xip(&mut self.registry, &params)
                .await
                .map_err(failure);
        }
        self.store.finish().await.map_err(failure)
    }

    /// A signed install goes in as the version it was signed as, and not below the installed
    /// one unless the policy allows it.
    fn check_version(&self, name: &Name, signed: u32, asked: Option<u32>) -> Result<(), Failure> {
        if asked != Some(signed) {
            return Err(fail(Cause::SignedVersion {
                name: failure::name(name),
                signed,
                sent: asked,
            }));
        }
        let installed = self.store.find(name.as_str()).map(|s| s.active.version);
        match installed {
            Some(v) if v > signed && !self.config.trust.allow_rollback => {
                Err(trust::refused(Refusal::Rollback {
                    version: signed,
                    installed: v,
                }))
            }
            _ => Ok(()),
        }
    }
}
