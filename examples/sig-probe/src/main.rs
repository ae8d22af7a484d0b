//! A minimal Cortex-M3 firmware that checks one Ed25519 signature (RFC 8032, test 2) with the
//! verifier its feature names (`dalek`, `salty`, `compact`; none: the baseline), so the
//! difference in text size is what that verifier costs. With `measure`, run under QEMU's
//! `-icount shift=0`, it prints the guest instructions each step takes (docs/PERFORMANCE.md).
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;

/// RFC 8032 section 7.1, TEST 2: public key, message, signature.
static PK: [u8; 32] = *b"\x3d\x40\x17\xc3\xe8\x43\x89\x5a\x92\xb7\x0a\xa7\x4d\x1b\x7e\xbc\x9c\x98\x2c\xcf\x2e\xc4\x96\x8c\xc0\xcd\x55\xf1\x2a\xf4\x66\x0c";
static MSG: [u8; 1] = [0x72];
static SIG: [u8; 64] = *b"\x92\xa0\x09\xa9\xf0\xd4\xca\xb8\x72\x0e\x82\x0b\x5f\x64\x25\x40\xa2\xb2\x7b\x54\x16\x50\x3f\x8f\xb3\x76\x22\x23\xeb\xdb\x69\xda\x08\x5a\xc1\xe4\x3e\x15\x99\x6e\x45\x8f\x36\x13\xd0\xf1\x1d\x8c\x38\x7b\x2e\xae\xb4\x30\x2a\xee\xb0\x0d\x29\x16\x12\xbb\x0c\x00";

#[cfg(feature = "dalek")]
fn verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    use ed25519_dalek::{Signature, VerifyingKey};
    let Ok(key) = VerifyingKey::from_bytes(pk) else {
        return false;
    };
    key.verify_strict(msg, &Signature::from_bytes(sig)).is_ok()
}

#[cfg(feature = "salty")]
fn verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Ok(key) = salty::PublicKey::try_from(pk) else {
        return false;
    };
    key.verify(msg, &salty::Signature::from(sig)).is_ok()
}

#[cfg(feature = "compact")]
fn verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let key = ed25519_compact::PublicKey::new(*pk);
    key.verify(msg, &ed25519_compact::Signature::new(*sig))
        .is_ok()
}

#[cfg(not(any(feature = "dalek", feature = "salty", feature = "compact")))]
fn verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    pk[0] ^ sig[0] == msg.len() as u8
}

#[cfg(feature = "measure")]
mod measure {
    use core::sync::atomic::{AtomicU32, Ordering};
    use cortex_m::peripheral::{SYST, syst::SystClkSource};
    use cortex_m_rt::exception;

    const RELOAD: u32 = 0x00FF_FFFF;
    static WRAPS: AtomicU32 = AtomicU32::new(0);

    #[exception]
    fn SysTick() {
        WRAPS.fetch_add(1, Ordering::Relaxed);
    }

    pub fn start(mut syst: SYST) {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // The counter reads 0 until its first reload.
        while SYST::get_current() == 0 {}
    }

    /// Guest instructions since `start`: QEMU's mps2-an385 runs SysTick at 25 MHz, 40 ns a
    /// clock, and `-icount shift=0` makes one instruction one nanosecond.
    pub fn now() -> u64 {
        let w = WRAPS.load(Ordering::Relaxed) as u64;
        let cvr = SYST::get_current();
        (w * (RELOAD as u64 + 1) + (RELOAD - cvr) as u64) * 40
    }
}

#[cfg(feature = "sha256")]
fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

#[cfg(all(feature = "sha256", feature = "measure"))]
fn sha512(data: &[u8]) -> [u8; 64] {
    use sha2::Digest;
    sha2::Sha512::digest(data).into()
}

/// The 100 KiB image `stream` checks: a minimal ELF32 header whose one section header says
/// "signed", filler, and a trailer by `PK` (whose signature, made for another message, fails
/// only at the last step, after all the work).
#[cfg(feature = "stream")]
fn stream_verify() -> Result<llext_sign::Verdict, llext_sign::Refusal> {
    use llext_sign::{KeyId, Kind, Policy, SHT_LLEXT_SIG, StreamVerifier, TRAILER_LEN, Trailer};
    static mut IMAGE: [u8; 100 * 1024] = [0x5a; 100 * 1024];
    static KEYS: [[u8; 32]; 1] = [PK];
    // SAFETY: called once, from `main`, before anything else touches IMAGE.
    let image = unsafe { &mut *core::ptr::addr_of_mut!(IMAGE) };
    let len = image.len();
    image[..6].copy_from_slice(b"\x7fELF\x01\x01");
    image[0x20..0x24].copy_from_slice(&52u32.to_le_bytes());
    image[0x2e..0x30].copy_from_slice(&40u16.to_le_bytes());
    image[0x30..0x32].copy_from_slice(&1u16.to_le_bytes());
    image[56..60].copy_from_slice(&SHT_LLEXT_SIG.to_le_bytes());
    let t = Trailer {
        version: 1,
        key_id: KeyId::of(&PK),
        signature: SIG,
    };
    image[len - TRAILER_LEN..].copy_from_slice(&t.to_bytes());
    let policy = Policy::production(&KEYS);
    let t0 = measure::now();
    let mut v = StreamVerifier::new("ext", len as u32);
    image.chunks(1024).for_each(|c| v.update(black_box(c)));
    let r = v.finish(&policy, Kind::Push);
    let t1 = measure::now();
    cortex_m_semihosting::hprintln!("stream 100KiB instructions={}", t1 - t0);
    r
}

#[entry]
fn main() -> ! {
    let ok = verify(black_box(&PK), black_box(&MSG), black_box(&SIG));
    black_box(ok);
    #[cfg(feature = "sha256")]
    black_box(sha256(black_box(&SIG)));
    #[cfg(feature = "measure")]
    {
        use cortex_m_semihosting::{debug, hprintln};
        static IMAGE: [u8; 100 * 1024] = [0x5a; 100 * 1024];
        measure::start(cortex_m::Peripherals::take().unwrap().SYST);
        let t0 = measure::now();
        let ok = verify(black_box(&PK), black_box(&MSG), black_box(&SIG));
        let t1 = measure::now();
        hprintln!("verify ok={} instructions={}", ok, t1 - t0);
        #[cfg(feature = "sha256")]
        {
            let t0 = measure::now();
            black_box(sha256(black_box(&IMAGE)));
            let t1 = measure::now();
            hprintln!("sha256 100KiB instructions={}", t1 - t0);
            let t0 = measure::now();
            black_box(sha512(black_box(&IMAGE)));
            let t1 = measure::now();
            hprintln!("sha512 100KiB instructions={}", t1 - t0);
        }
        black_box(&IMAGE);
        #[cfg(feature = "stream")]
        hprintln!("stream result {:?}", stream_verify());
        debug::exit(debug::EXIT_SUCCESS);
    }
    loop {
        cortex_m::asm::nop();
    }
}
