//! `api! { ... }`: a firmware API declared once, fingerprinted function by function.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{FnArg, ForeignItemFn, ReturnType};

struct Decls(Vec<ForeignItemFn>);

impl Parse for Decls {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut v = Vec::new();
        while !input.is_empty() {
            v.push(input.parse()?);
        }
        Ok(Decls(v))
    }
}

/// FNV-1a, 32-bit.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The signature as the fingerprint sees it: parameter and return types, spaces removed
/// (`extern "C" fn(*const u8,usize)->()`). Parameter names do not count.
pub fn canonical(f: &ForeignItemFn) -> String {
    let params: Vec<String> = f
        .sig
        .inputs
        .iter()
        .map(|a| match a {
            FnArg::Typed(t) => {
                let ty = &t.ty;
                quote!(#ty).to_string()
            }
            FnArg::Receiver(r) => quote!(#r).to_string(),
        })
        .collect();
    let ret = match &f.sig.output {
        ReturnType::Default => "()".to_string(),
        ReturnType::Type(_, t) => quote!(#t).to_string(),
    };
    let variadic = if f.sig.variadic.is_some() { ",..." } else { "" };
    format!("extern \"C\" fn({}{variadic})->{ret}", params.join(","))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The fingerprint of `f`'s signature.
pub fn fingerprint(f: &ForeignItemFn) -> u32 {
    fnv1a(canonical(f).as_bytes())
}

pub fn expand(input: TokenStream) -> TokenStream {
    let decls: Decls = match syn::parse2(input) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error(),
    };
    let mut externs = Vec::new();
    let mut prints = Vec::new();
    let mut table = Vec::new();
    for f in &decls.0 {
        let name = f.sig.ident.to_string();
        let fp = fingerprint(f);
        let link = format!("{name}#{fp:08x}");
        let (attrs, vis, sig) = (&f.attrs, &f.vis, &f.sig);
        externs.push(quote! {
            #(#attrs)*
            #[link_name = #link]
            #vis #sig;
        });
        prints.push(quote!((#name, #fp)));
        let ident = format_ident!("{}", name);
        let types = f.sig.inputs.iter().map(|a| match a {
            FnArg::Typed(t) => {
                let ty = &t.ty;
                quote!(#ty)
            }
            FnArg::Receiver(r) => quote!(#r),
        });
        let out = &f.sig.output;
        let ptr = quote!(unsafe extern "C" fn(#(#types),*) #out);
        let item = quote!({ let f: #ptr = $($imp)::+::#ident; f });
        table.push(quote!(#name => #item, #link => #item,));
    }
    quote! {
        unsafe extern "C" {
            #(#externs)*
        }

        /// Every function of this API with the fingerprint of its signature, as extensions
        /// link to it (`name#fingerprint`).
        pub const FINGERPRINTS: &[(&str, u32)] = &[#(#prints),*];

        /// The firmware's export table: every function of this API under its plain name (for
        /// C extensions) and its fingerprinted name (for Rust ones), each checked against its
        /// declaration, then the extra `"name" => item` entries.
        /// `firmware_exports!(crate::api_impl; "memcpy" => memcpy)`.
        #[macro_export]
        macro_rules! firmware_exports {
            ($($imp:ident)::+ $(; $($name:literal => $extra:expr),* $(,)?)?) => {
                ::llext_loader::exports![
                    #(#table)*
                    $($($name => $extra),*)?
                ]
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(text: &str) -> ForeignItemFn {
        syn::parse_str(text).expect("a declaration")
    }

    #[test]
    fn the_fingerprint_covers_types_not_names() {
        let a = decl("pub fn llext_log(text: *const u8, len: usize);");
        assert_eq!(canonical(&a), "extern\"C\"fn(*constu8,usize)->()");
        let renamed = decl("pub fn llext_log(p: *const u8, n: usize);");
        assert_eq!(fingerprint(&a), fingerprint(&renamed));
        let widened = decl("pub fn llext_log(text: *const u8, len: u64);");
        assert_ne!(fingerprint(&a), fingerprint(&widened));
        let returns = decl("pub fn llext_log(text: *const u8, len: usize) -> i32;");
        assert_ne!(fingerprint(&a), fingerprint(&returns));
    }
}
