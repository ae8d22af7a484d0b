//! What the QEMU firmwares trust: the fixed test key of `test-support/keys/qemu-test.pem`
//! (public, for tests only), with unsigned extensions still accepted (the development policy),
//! so the rest of the QEMU suite pushes unsigned objects as before.

use llext_sign::Policy;
use llext_transports::server::Config;

/// The public half of `test-support/keys/qemu-test.pem` (key id 62f84a77a1be709b).
pub const QEMU_TEST_KEY: [u8; 32] = [
    0x53, 0xb0, 0xcc, 0x7b, 0x0c, 0x6c, 0x0e, 0xe3, 0x87, 0xe9, 0x03, 0xa5, 0x97, 0x7c, 0x57, 0x99,
    0x30, 0x61, 0xd3, 0xc1, 0x1e, 0xd6, 0x1b, 0x41, 0x6e, 0xa9, 0x08, 0x51, 0xcb, 0x01, 0x45, 0xb4,
];

/// The server settings of the QEMU firmwares: the defaults, trusting [`QEMU_TEST_KEY`].
pub fn config() -> Config {
    Config {
        trust: Policy {
            keys: &[QEMU_TEST_KEY],
            ..Policy::DEVELOPMENT
        },
        ..Config::default()
    }
}
