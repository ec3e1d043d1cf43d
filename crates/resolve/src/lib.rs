//! Reverse DNS and AS-number lookups that never block tracing.
