//! Boot: load every extension marked for boot, dependencies first; confirm those on trial that
//! come up, roll back those that do not, and report each outcome.

use core::fmt;
use llext_loader::outline::outlined;

use embedded_storage_async::nor_flash::NorFlash;
use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::Resolve;
use llext_loader::{Extension, LoadParams, Registry, Report};

use crate::error::Error;
use crate::name::ExtName;
use crate::read;
use crate::record::{Entry, Image, State};
use crate::source::{load_seeked, load_streamed};
use crate::storage::Storage;

/// Why a version did not come up.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Its bytes in flash do not match the CRC recorded at install (bit flips, a worn page).
    Corrupt {
        /// The CRC recorded at install.
        expected: u32,
        /// The CRC of what the slot holds now.
        found: u32,
    },
    /// The loader refused it.
    Load(llext_loader::Error),
    /// It loaded but the bringup hook said it failed.
    Bringup,
    /// It was on trial at the previous boot, which never finished (a crash, a hang caught by a
    /// watchdog, or a reset during its load or bringup).
    Interrupted,
    /// It failed an earlier trial and has no previous version; it is not loaded until reinstalled
    /// or confirmed.
    MarkedFailed,
    /// A dependency it declares failed.
    DependencyFailed(ExtName),
    /// A dependency it declares is not installed for boot and not loaded.
    DependencyMissing(ExtName),
    /// It depends on itself through others.
    DependencyCycle,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Corrupt { expected, found } => write!(
                f,
                "corrupt in flash: CRC {found:08x}, installed with {expected:08x}"
            ),
            Failure::Load(e) => write!(f, "load failed: {e}"),
            Failure::Bringup => f.write_str("bringup failed"),
            Failure::Interrupted => {
                f.write_str("its trial at the previous boot never finished (crash or reset)")
            }
            Failure::MarkedFailed => f.write_str("failed an earlier trial"),
            Failure::DependencyFailed(d) => write!(f, "dependency {d} failed"),
            Failure::DependencyMissing(d) => write!(f, "dependency {d} is not installed for boot"),
            Failure::DependencyCycle => f.write_str("dependency cycle"),
        }
    }
}

/// One thing boot did, passed to its report callback as it happens.
#[derive(Clone, Debug, PartialEq)]
pub enum BootEvent<'a> {
    /// `name` version `version` loaded into registry slot `index` and came up; `confirmed` says
    /// this boot confirmed it (it was on trial).
    Loaded {
        /// The extension.
        name: &'a str,
        /// Its version.
        version: u32,
        /// Its registry slot.
        index: usize,
        /// Whether this boot confirmed it.
        confirmed: bool,
    },
    /// This version of `name` failed.
    Failed {
        /// The extension.
        name: &'a str,
        /// The version that failed.
        version: u32,
        /// Why.
        reason: Failure,
    },
    /// `name` went back from version `from` to `to` (which boot tries next).
    RolledBack {
        /// The extension.
        name: &'a str,
        /// The version that failed.
        from: u32,
        /// The version now active.
        to: u32,
    },
    /// `name` was not tried.
    Skipped {
        /// The extension.
        name: &'a str,
        /// Why.
        reason: Failure,
    },
    /// A symbol `name` needs that nothing exports (reported before its `Failed`).
    MissingSymbol {
        /// The extension.
        name: &'a str,
        /// The symbol.
        symbol: &'a str,
    },
}

/// Counts of what boot did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootSummary {
    /// Extensions loaded.
    pub loaded: u16,
    /// Extensions that did not load (in any version).
    pub failed: u16,
    /// Roll-backs made.
    pub rolled_back: u16,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    NotBoot,
    Todo,
    Loaded,
    Failed,
}

/// What trying one version gave: a final outcome, or a failure that rolls it back.
enum Tried {
    Done(Outcome),
    Failed(Failure),
}

enum Outcome {
    Loaded,
    Failed,
    /// Missing symbols that an extension not yet loaded may provide: try again later.
    Deferred,
}

enum Deps {
    Ready,
    Wait,
    Blocked(Failure),
}

/// What boot needs besides the storage: where to load, how, and what to tell.
struct Ctx<'r, 'c, P, R, const M: usize> {
    reg: &'r mut Registry<P, R, M>,
    params: &'c LoadParams,
    bringup: &'c mut dyn FnMut(&Extension) -> bool,
    report: &'c mut dyn FnMut(BootEvent<'_>),
    summary: BootSummary,
}

impl<F: NorFlash, const N: usize> Storage<F, N> {
    /// Loads every extension marked for boot into `reg`, each after the ones it depends on.
    ///
    /// A version on trial (just installed) is marked as trying before it is loaded, brought up
    /// with `bringup` (which should run its constructors, e.g. `unsafe { ext.bringup() }`, and
    /// any check, and return whether it came up), and confirmed if it did. A version that is corrupt, fails to load
    /// or to come up is rolled back to the previous one, which is tried next. Dependencies are
    /// the declared ones plus those learned at earlier boots; an extension missing symbols is
    /// retried after the others, so undeclared dependencies load too (and are then recorded).
    ///
    /// Every outcome goes to `report`; the result is an error only if the flash or the catalog
    /// failed.
    pub async fn boot<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
        bringup: &mut dyn FnMut(&Extension) -> bool,
        report: &mut dyn FnMut(BootEvent<'_>),
    ) -> Result<BootSummary, Error<F::Error>> {
        let mut cx = Ctx {
            reg,
            params,
            bringup,
            report,
            summary: BootSummary::default(),
        };
        let mut status = [Status::NotBoot; N];
        for (s, e) in status.iter_mut().zip(&self.catalog.entries) {
            if e.is_some_and(|e| e.boot) {
                *s = Status::Todo;
            }
        }
        let mut allow_defer = true;
        loop {
            let mut progress = false;
            let mut todo = false;
            for i in 0..N {
                if status[i] != Status::Todo {
                    continue;
                }
                todo = true;
                let e = self.catalog.entries[i].expect("boot entries exist");
                match self.deps_ready(&e, &status, cx.reg) {
                    Deps::Wait => continue,
                    Deps::Blocked(reason) => {
                        (cx.report)(BootEvent::Skipped {
                            name: e.name.as_str(),
                            reason,
                        });
                        status[i] = Status::Failed;
                        cx.summary.failed += 1;
                        progress = true;
                    }
                    Deps::Ready => match self.boot_one(i, &mut cx, allow_defer).await? {
                        Outcome::Loaded => {
                            status[i] = Status::Loaded;
                            cx.summary.loaded += 1;
                            progress = true;
                        }
                        Outcome::Failed => {
                            status[i] = Status::Failed;
                            cx.summary.failed += 1;
                            progress = true;
                        }
                        Outcome::Deferred => {}
                    },
                }
            }
            if !todo {
                break;
            }
            if progress {
                allow_defer = true;
            } else if allow_defer {
                allow_defer = false;
            } else {
                for (s, e) in status.iter_mut().zip(&self.catalog.entries) {
                    if let (Status::Todo, Some(e)) = (*s, e) {
                        (cx.report)(BootEvent::Skipped {
                            name: e.name.as_str(),
                            reason: Failure::DependencyCycle,
                        });
                        *s = Status::Failed;
                        cx.summary.failed += 1;
                    }
                }
                break;
            }
        }
        Ok(cx.summary)
    }

    fn deps_ready<P: MemoryProvider, R: Resolve, const M: usize>(
        &self,
        e: &Entry,
        status: &[Status; N],
        reg: &Registry<P, R, M>,
    ) -> Deps {
        for d in e.deps.iter() {
            let loaded = reg.find(d.as_str()).is_some();
            match self.catalog.find(d.as_str()).map(|j| status[j]) {
                Some(Status::Loaded) => {}
                Some(Status::Todo) => return Deps::Wait,
                Some(Status::Failed) => return Deps::Blocked(Failure::DependencyFailed(*d)),
                Some(Status::NotBoot) | None if loaded => {}
                Some(Status::NotBoot) | None => {
                    return Deps::Blocked(Failure::DependencyMissing(*d));
                }
            }
        }
        Deps::Ready
    }

    /// Boots entry `i`: its active version, then earlier ones as it rolls back.
    async fn boot_one<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        i: usize,
        cx: &mut Ctx<'_, '_, P, R, M>,
        allow_defer: bool,
    ) -> Result<Outcome, Error<F::Error>> {
        loop {
            let e = self.catalog.entries[i].expect("boot entries exist");
            let img = e.active;
            let reason = match img.state {
                State::Failed => {
                    (cx.report)(BootEvent::Skipped {
                        name: e.name.as_str(),
                        reason: Failure::MarkedFailed,
                    });
                    return Ok(Outcome::Failed);
                }
                State::Trying => Failure::Interrupted,
                State::Pending | State::Confirmed => {
                    match self.try_active(i, &e, cx, allow_defer).await? {
                        Tried::Done(outcome) => return Ok(outcome),
                        Tried::Failed(reason) => reason,
                    }
                }
            };
            (cx.report)(BootEvent::Failed {
                name: e.name.as_str(),
                version: img.version,
                reason,
            });
            if !self.roll_back(i, &e, cx).await? {
                return Ok(Outcome::Failed);
            }
        }
    }

    /// Loads and brings up the active version of entry `e` (index `i`). A version on trial is
    /// marked trying first: a start that dies or hangs while loading or bringing it up rolls it
    /// back at the next start.
    async fn try_active<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        i: usize,
        e: &Entry,
        cx: &mut Ctx<'_, '_, P, R, M>,
        allow_defer: bool,
    ) -> Result<Tried, Error<F::Error>> {
        let (name, img) = (e.name, e.active);
        let trial = img.state != State::Confirmed;
        if trial {
            self.set_state(i, State::Trying).await?;
        }
        let report = &mut *cx.report;
        let mut on_report = |r: Report<'_>| {
            // While a retry is still possible, missing symbols are not final.
            if let (Report::MissingSymbol(symbol), false) = (r, allow_defer) {
                report(BootEvent::MissingSymbol {
                    name: name.as_str(),
                    symbol,
                });
            }
        };
        let loaded = self
            .load_checked(&name, &img, cx.reg, cx.params, &mut on_report)
            .await?;
        let index = match loaded {
            Ok(index) => index,
            Err(Failure::Load(llext_loader::Error::MissingSymbols { .. })) if allow_defer => {
                if trial {
                    self.set_state(i, img.state).await?;
                }
                return Ok(Tried::Done(Outcome::Deferred));
            }
            Err(Failure::Load(
                err @ (llext_loader::Error::RegistryFull | llext_loader::Error::Io { .. }),
            )) => {
                // Not the image's fault: report, change nothing.
                if trial {
                    self.set_state(i, img.state).await?;
                }
                (cx.report)(BootEvent::Failed {
                    name: name.as_str(),
                    version: img.version,
                    reason: Failure::Load(err),
                });
                return Ok(Tried::Done(Outcome::Failed));
            }
            Err(reason) => return Ok(Tried::Failed(reason)),
        };
        let ext = cx.reg.get(index).expect("just loaded");
        if !(cx.bringup)(ext) {
            let _ = cx.reg.unload(index);
            return Ok(Tried::Failed(Failure::Bringup));
        }
        if trial {
            self.set_state(i, State::Confirmed).await?;
        }
        self.learn_deps(i, index, cx.reg).await?;
        (cx.report)(BootEvent::Loaded {
            name: name.as_str(),
            version: img.version,
            index,
            confirmed: trial,
        });
        Ok(Tried::Done(Outcome::Loaded))
    }

    /// Makes the previous version of entry `e` (index `i`) the active one, confirmed; `false`
    /// when there is none (the failed version is then marked failed, unless it was confirmed).
    async fn roll_back<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        i: usize,
        e: &Entry,
        cx: &mut Ctx<'_, '_, P, R, M>,
    ) -> Result<bool, Error<F::Error>> {
        let img = e.active;
        let Some(mut prev) = e.previous else {
            if img.state != State::Confirmed {
                self.set_state(i, State::Failed).await?;
            }
            return Ok(false);
        };
        prev.state = State::Confirmed;
        let rolled = Entry {
            active: prev,
            previous: None,
            ..*e
        };
        self.catalog.put(i, Some(rolled)).await?;
        cx.summary.rolled_back += 1;
        (cx.report)(BootEvent::RolledBack {
            name: e.name.as_str(),
            from: img.version,
            to: prev.version,
        });
        Ok(true)
    }

    /// Loads the active version of `name` into `reg` now (outside boot, e.g. right after an
    /// install), checking its CRC in the same pass. The inner result is the registry slot or
    /// why it did not load; the catalog is not changed (confirm it with [`Storage::confirm`]).
    pub async fn load<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        name: &str,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<Result<usize, Failure>, Error<F::Error>> {
        let e = *self.entry(name).ok_or(Error::NotInstalled)?;
        self.load_checked(&e.name, &e.active, reg, params, report)
            .await
    }

    /// Loads `img` as `name`, checking its CRC in the same pass; a failed load is blamed on
    /// corruption when the CRC does not match.
    async fn load_checked<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        name: &ExtName,
        img: &Image,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
        on_report: &mut dyn FnMut(Report<'_>),
    ) -> Result<Result<usize, Failure>, Error<F::Error>> {
        if img.xip.is_some() {
            return self.load_xip(name, img, reg).await;
        }
        let base = self.layout.slot(img.slot).start;
        let corrupt = |found| Failure::Corrupt {
            expected: img.crc,
            found,
        };
        let flash = self.catalog.flash();
        let loaded = load_streamed(flash, base, img.len, reg, name.as_str(), params, on_report);
        let loaded = loaded.await;
        let result = match loaded.map_err(Error::Flash)? {
            Ok((index, found)) => {
                if found == img.crc {
                    Ok(index)
                } else {
                    let _ = reg.unload(index);
                    Err(corrupt(found))
                }
            }
            Err(llext_loader::Error::StreamOrder { .. }) => {
                // Not in stream order (installed unpacked): check first, then load seekably.
                let found = read::crc_of(self.catalog.flash(), base, img.len)
                    .await
                    .map_err(Error::Flash)?;
                if found != img.crc {
                    return Ok(Err(corrupt(found)));
                }
                let flash = self.catalog.flash();
                let loaded =
                    load_seeked(flash, base, img.len, reg, name.as_str(), params, on_report);
                loaded.await.map_err(Failure::Load)
            }
            Err(err) => {
                let found = read::crc_of(self.catalog.flash(), base, img.len)
                    .await
                    .map_err(Error::Flash)?;
                Err(if found == img.crc {
                    Failure::Load(err)
                } else {
                    corrupt(found)
                })
            }
        };
        Ok(result)
    }

    fn set_state(
        &mut self,
        i: usize,
        state: State,
    ) -> impl Future<Output = Result<(), Error<F::Error>>> + '_ {
        outlined(async move {
            let mut e = self.catalog.entries[i].expect("exists");
            e.active.state = state;
            self.catalog.put(i, Some(e)).await
        })
    }

    /// Records the extensions entry `i` linked against (registry slot `index`) as its
    /// dependencies, so later boots order it right away.
    async fn learn_deps<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        i: usize,
        index: usize,
        reg: &Registry<P, R, M>,
    ) -> Result<(), Error<F::Error>> {
        let Some(ext) = reg.get(index) else {
            return Ok(());
        };
        let mut e = self.catalog.entries[i].expect("exists");
        let before = e.deps;
        for d in 0..M.min(32) {
            if ext.dependencies() & (1 << d) == 0 {
                continue;
            }
            if let Some(dep) = reg.get(d).and_then(|x| ExtName::new(x.name()))
                && self.catalog.find(dep.as_str()).is_some()
            {
                e.deps.push(dep);
            }
        }
        if e.deps != before {
            self.catalog.put(i, Some(e)).await?;
        }
        Ok(())
    }
}
