//! Fault containment on QEMU's mps2-an385 and riscv32-virt (issue 12).

#[test]
fn faults_are_contained_on_mps2_an385() {
    let b = qemu_tests::Board::Mps2;
    if !b.skip("faults_are_contained") {
        qemu_tests::fault::faults_are_contained(b);
    }
}

#[test]
fn faults_are_contained_on_riscv32_virt() {
    let b = qemu_tests::Board::Riscv32;
    if !b.skip("faults_are_contained") {
        qemu_tests::fault::faults_are_contained(b);
    }
}

#[test]
fn a_call_stops_at_its_own_time_limit_on_mps2_an385() {
    let b = qemu_tests::Board::Mps2;
    if !b.skip("time_limit_per_call") {
        qemu_tests::fault::time_limit_per_call(b);
    }
}

#[test]
fn a_call_stops_at_its_own_time_limit_on_riscv32_virt() {
    let b = qemu_tests::Board::Riscv32;
    if !b.skip("time_limit_per_call") {
        qemu_tests::fault::time_limit_per_call(b);
    }
}

#[test]
fn a_constructor_faulting_at_boot_is_rolled_back_and_named_on_riscv32_virt() {
    let b = qemu_tests::Board::Riscv32;
    if !b.skip("boot_fault_rolls_back") {
        qemu_tests::fault::boot_fault_rolls_back(b);
    }
}
