//! Compiles the C shim that gives extensions a variadic `printf` writing to the device log.
fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    cc::Build::new()
        .file("src/shim.c")
        .compile("sim_device_shim");
}
