//! Rewrites an ET_REL ELF into stream order (`docs/STREAM-ORDER.md`).
