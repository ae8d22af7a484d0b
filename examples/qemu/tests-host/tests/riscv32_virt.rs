//! The end-to-end suite on QEMU's RISC-V virt board (RV32IMAC), and installing into its flash.

qemu_tests::board_suite!(qemu_tests::Board::Riscv32);

#[test]
fn installed_for_boot_runs_after_a_restart_on_the_same_flash() {
    if !B.skip("install_boot_restart") {
        qemu_tests::flash::install_boot_restart(B);
    }
}

#[test]
fn installed_in_place_the_corpus_runs_from_the_flash_bank_after_a_restart() {
    if !B.skip("install_xip_boot_restart") {
        qemu_tests::flash::install_xip_boot_restart(B);
    }
}

#[test]
fn a_bad_image_installed_for_boot_is_reported_and_the_board_comes_up() {
    if !B.skip("bad_image_for_boot") {
        qemu_tests::flash::bad_image_for_boot(B);
    }
}

#[test]
fn signed_installs_are_checked_and_checked_again_at_boot() {
    if !B.skip("signed_installs") {
        qemu_tests::signed::signed_installs(B);
    }
}
