//! Rhai's limits for fabfiles: how big a string, array or map may grow, and how long the
//! top level may run. Error messages name them, and `run()` caps what it keeps below them.

use rhai::Engine;

/// The largest string a script may build: 256 MiB. Above the 64 MiB a command's captured
/// output is capped at by default, with room for a script to join two of them; without a
/// cap, a runaway string ends in a failed allocation, which aborts the process.
pub(crate) const MAX_STRING_SIZE: usize = 256 << 20;
/// The most items in one array: generous (the lines of a 64 MiB output fit), but finite,
/// so a runaway loop is a script error instead of an abort.
pub(crate) const MAX_ARRAY_SIZE: usize = 16 << 20;
/// The most entries in one map, likewise.
pub(crate) const MAX_MAP_SIZE: usize = 1 << 20;
/// The most operations a fabfile's top level may run while it loads. It runs for `--list`
/// too, so an endless loop there must fail fast; tasks themselves are not limited (a
/// deploy may rightly loop for minutes, and Ctrl-C stops it).
pub(crate) const MAX_LOAD_OPERATIONS: u64 = 1_000_000;

/// Rhai's limits for fabfiles. Debug builds of Rhai default to 8 call levels and shallow
/// expressions; deploy recipes nest deeper.
///
/// The price of size limits: Rhai then measures a container after each change made to it in
/// place, so pushing N items one by one costs O(N²) (about 8 s for 20 000 in a debug build).
/// Deploy scripts build lists of hosts and lines, far below that; `split` and other
/// functions that return a whole array are measured once.
pub(crate) fn limit(engine: &mut Engine) {
    engine
        .set_max_call_levels(64)
        .set_max_expr_depths(64, 32)
        .set_max_operations(0)
        .set_max_string_size(MAX_STRING_SIZE)
        .set_max_array_size(MAX_ARRAY_SIZE)
        .set_max_map_size(MAX_MAP_SIZE);
}
