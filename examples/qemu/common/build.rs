//! Compiles the C shim (string functions, the printf family) with the target's cross compiler,
//! and with the `bench` feature the large generated extension (`build/bench.rs`).
#[cfg(feature = "bench")]
#[path = "build/bench.rs"]
mod bench;

fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    println!("cargo:rerun-if-changed=build");
    cc::Build::new()
        .file("src/shim.c")
        .flag("-ffreestanding")
        .flag("-fno-builtin")
        .flag("-fno-tree-loop-distribute-patterns")
        .opt_level_str("s")
        .compile("qemu_fw_shim");
    #[cfg(feature = "bench")]
    bench::build();
}
