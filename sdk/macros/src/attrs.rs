//! `#[export]`, `#[entry]`, `#[init]`, `#[fini]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Error, ItemFn, LitInt, ReturnType, parse2};

fn parse_fn(item: TokenStream) -> Result<ItemFn, Error> {
    let f: ItemFn = parse2(item)?;
    if let Some(a) = &f.sig.asyncness {
        return Err(Error::new_spanned(
            a,
            "an extension function cannot be async",
        ));
    }
    if !f.sig.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &f.sig.generics,
            "an exported function cannot be generic",
        ));
    }
    Ok(f)
}

fn returns_i32(f: &ItemFn) -> bool {
    matches!(&f.sig.output, ReturnType::Type(_, t) if quote!(#t).to_string() == "i32")
}

/// The `.exported_sym` entry naming `symbol` (`{const char *name; void *addr}`).
fn table_entry(symbol: &str, func: &syn::Ident) -> TokenStream {
    let entry = format_ident!("__LLEXT_EXPORTED_{}", symbol.to_uppercase());
    let name = syn::LitByteStr::new(format!("{symbol}\0").as_bytes(), Span::call_site());
    quote! {
        #[used]
        #[unsafe(link_section = ".exported_sym")]
        static #entry: ::llext_sdk::__private::ExportedSym =
            ::llext_sdk::__private::ExportedSym::new(#name, #func as *const ());
    }
}

/// An exported C-ABI function named `symbol` running the body of `f`.
fn exported(f: ItemFn, symbol: &str) -> Result<TokenStream, Error> {
    let sym = format_ident!("{}", symbol);
    let vis = &f.vis;
    let attrs = &f.attrs;
    let inputs = &f.sig.inputs;
    let output = &f.sig.output;
    let body = &f.block;
    let unsafety = &f.sig.unsafety;
    let entry = table_entry(symbol, &sym);
    let wrapper = if returns_i32(&f) && inputs.is_empty() {
        // Called by the firmware: a panic ends this call, not the device.
        quote! {
            #(#attrs)*
            #[unsafe(no_mangle)]
            #vis extern "C" fn #sym() -> i32 {
                // The body as a function of its own name (a closure would be `{closure#0}` in
                // the debug information a fault or panic is reported with).
                fn #sym() -> i32 #body
                ::llext_sdk::__private::guard(#sym)
            }
        }
    } else {
        quote! {
            #(#attrs)*
            #[unsafe(no_mangle)]
            #vis #unsafety extern "C" fn #sym(#inputs) #output #body
        }
    };
    Ok(quote! { #wrapper #entry })
}

pub fn export(args: TokenStream, item: TokenStream) -> TokenStream {
    let run = || -> Result<TokenStream, Error> {
        if !args.is_empty() {
            return Err(Error::new_spanned(args, "#[export] takes no arguments"));
        }
        let f = parse_fn(item)?;
        let name = f.sig.ident.to_string();
        exported(f, &name)
    };
    run().unwrap_or_else(|e| e.to_compile_error())
}

pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let run = || -> Result<TokenStream, Error> {
        if !args.is_empty() {
            return Err(Error::new_spanned(args, "#[entry] takes no arguments"));
        }
        let f = parse_fn(item)?;
        if !f.sig.inputs.is_empty() || !returns_i32(&f) {
            return Err(Error::new_spanned(&f.sig, "the entry is `fn() -> i32`"));
        }
        exported(f, "llext_main")
    };
    run().unwrap_or_else(|e| e.to_compile_error())
}

pub fn array(section: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    let run = || -> Result<TokenStream, Error> {
        let section = if args.is_empty() {
            section.to_string()
        } else {
            let kv: syn::MetaNameValue = parse2(args)?;
            if !kv.path.is_ident("priority") {
                return Err(Error::new_spanned(kv.path, "expected `priority = N`"));
            }
            let value = &kv.value;
            let n: LitInt = parse2(quote!(#value))?;
            format!("{section}.{:05}", n.base10_parse::<u16>()?)
        };
        let f = parse_fn(item)?;
        if !f.sig.inputs.is_empty() || !matches!(f.sig.output, ReturnType::Default) {
            return Err(Error::new_spanned(
                &f.sig,
                "a constructor or destructor is `fn()`",
            ));
        }
        let name = &f.sig.ident;
        let slot = format_ident!("__LLEXT_ARRAY_{}", name.to_string().to_uppercase());
        let tramp = format_ident!("__llext_array_{}", name);
        Ok(quote! {
            #f
            extern "C" fn #tramp() {
                ::llext_sdk::__private::guard(|| { #name(); 0 });
            }
            #[used]
            #[unsafe(link_section = #section)]
            static #slot: extern "C" fn() = #tramp;
        })
    };
    run().unwrap_or_else(|e| e.to_compile_error())
}
