//! The end-to-end suite on QEMU's RISC-V virt board (RV32IMAC).

use qemu_tests::{Board, suite};

const B: Board = Board::Riscv32;

#[test]
fn corpus_runs_with_the_expected_results() {
    if !B.skip("corpus") {
        suite::corpus_runs(B);
    }
}

#[test]
fn calls_into_the_firmware_and_printf_to_the_log() {
    if !B.skip("firmware_calls") {
        suite::firmware_calls_and_log(B);
    }
}

#[test]
fn constructors_and_destructors_run_in_order() {
    if !B.skip("ctors") {
        suite::ctors_and_dtors(B);
    }
}

#[test]
fn one_extension_uses_another() {
    if !B.skip("two_extensions") {
        suite::two_extensions(B);
    }
}

#[test]
fn unload_and_reload_returns_the_pool_to_its_baseline() {
    if !B.skip("reload") {
        suite::reload_many_times(B, 25);
    }
}

#[test]
fn malformed_elf_and_cut_link_leave_the_firmware_running() {
    if !B.skip("bad_input") {
        suite::survives_bad_input(B);
    }
}

#[test]
fn load_figures_under_icount() {
    if !B.skip("figures") {
        let (f, size) = suite::figures(B, 400);
        println!("riscv32-virt: large extension {size} B packed: {f:?}");
        assert!(f.transient_peak > 0 && f.count > 0);
    }
}

#[test]
fn start_up_bench_reports_guest_instructions_per_load() {
    if !B.skip("bench") {
        qemu_tests::bench::check(B);
    }
}

#[test]
fn host_push_pushes_and_calls() {
    if !B.skip("host_push_cli") {
        suite::host_push_cli(B);
    }
}

#[test]
fn installed_for_boot_runs_after_a_restart_on_the_same_flash() {
    if !B.skip("install_boot_restart") {
        qemu_tests::flash::install_boot_restart(B);
    }
}
