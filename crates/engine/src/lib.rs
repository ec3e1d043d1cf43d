//! The tracing logic as a sans-IO state machine.
