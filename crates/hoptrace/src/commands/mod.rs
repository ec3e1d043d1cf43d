//! The commands: settings in, the library's traces out through a renderer.

pub mod bulk;
pub mod monitor;
pub mod trace;
