//! The commands: settings in, the library's traces out through a renderer.

pub mod trace;
