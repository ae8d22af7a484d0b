//! Puts `memory.x` and `device.x` (interrupt names: none, the table is in `irq.rs`) where the
//! linker finds them.
fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::copy("memory.x", out.join("memory.x")).unwrap();
    std::fs::write(out.join("device.x"), "/* interrupts: src/irq.rs */\n").unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}
