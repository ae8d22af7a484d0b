//! The end-to-end suite on QEMU's mps2-an385 (Cortex-M3).

qemu_tests::board_suite!(qemu_tests::Board::Mps2);
