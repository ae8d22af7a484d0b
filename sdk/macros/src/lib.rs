//! Macros of `llext-sdk` and `llext-api`: marking an extension's exports, constructors,
//! destructors and entry, and declaring a firmware API whose every function carries a
//! fingerprint of its signature.

mod api;
mod attrs;

use proc_macro::TokenStream;

/// Exports `fn NAME(...) -> T` from the extension under `NAME` (C ABI, an entry in the
/// `.exported_sym` table). A `fn() -> i32` export is guarded: a panic inside it ends the call
/// (a fault of the extension on llext-rs firmwares) instead of stopping the device.
#[proc_macro_attribute]
pub fn export(args: TokenStream, item: TokenStream) -> TokenStream {
    attrs::export(args.into(), item.into()).into()
}

/// Marks `fn()` as the extension's entry (`llext_main`, what `bootstrap` and `cargo run` call):
/// an `i32`-returning export like [`macro@export`].
#[proc_macro_attribute]
pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    attrs::entry(args.into(), item.into()).into()
}

/// Runs `fn()` when the extension is loaded (`.init_array`; `#[init(priority = N)]` for
/// `.init_array.N`, lower first).
#[proc_macro_attribute]
pub fn init(args: TokenStream, item: TokenStream) -> TokenStream {
    attrs::array(".init_array", args.into(), item.into()).into()
}

/// Runs `fn()` when the extension is unloaded (`.fini_array`).
#[proc_macro_attribute]
pub fn fini(args: TokenStream, item: TokenStream) -> TokenStream {
    attrs::array(".fini_array", args.into(), item.into()).into()
}

/// Declares a firmware API: `api! { /// docs \n pub fn name(arg: T, ...) -> R; ... }`, with
/// types written so they resolve in any crate (`::core::ffi::c_void`): the firmware's table repeats them.
///
/// Generates, for extensions, the `extern "C"` declarations, each linked under
/// `name#FINGERPRINT` (FNV-1a of its parameter and return types); `FINGERPRINTS`, the list of
/// `(name, fingerprint)`; and, for the firmware, `firmware_exports!(path::to::impls; "extra" =>
/// item, ...)`, an `llext_loader::exports!` table with every function under its plain name (for
/// C extensions) and its fingerprinted name, type-checked against the declaration.
#[proc_macro]
pub fn api(input: TokenStream) -> TokenStream {
    api::expand(input.into()).into()
}
