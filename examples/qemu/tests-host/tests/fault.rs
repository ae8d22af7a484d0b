//! Fault containment on QEMU's mps2-an385 (issue 12).

#[test]
fn faults_are_contained() {
    let b = qemu_tests::Board::Mps2;
    if !b.skip("faults_are_contained") {
        qemu_tests::fault::faults_are_contained(b);
    }
}
