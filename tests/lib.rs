//! rfab integration tests.
