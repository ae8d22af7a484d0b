//! `host-push gdb` and a real GDB on QEMU's mps2-an385 gdbstub (issue 12).

#[test]
fn gdb_breaks_in_an_extension() {
    let b = qemu_tests::Board::Mps2;
    if !b.skip("gdb_breaks_in_an_extension") {
        qemu_tests::gdb::gdb_breaks_in_an_extension(b);
    }
}
