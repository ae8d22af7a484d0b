//! Compiles the C shim (string functions, the printf family) with the target's cross compiler.
fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    cc::Build::new()
        .file("src/shim.c")
        .flag("-ffreestanding")
        .flag("-fno-builtin")
        .flag("-fno-tree-loop-distribute-patterns")
        .opt_level_str("s")
        .compile("qemu_fw_shim");
}
