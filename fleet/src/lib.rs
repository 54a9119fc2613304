//! rfab's local demo fleet, for the demo (`rfab-demo`), the tests and the benchmarks: web
//! nodes that are real `sshd`s on their own loopback addresses, each with its own `/srv` and
//! a web app serving the live release's `VERSION`; HAProxy in front of them; the git
//! repository of the demo app; and a client that keeps requesting pages and counts failures.
//! Every process is stopped, by PID, when what started it is dropped.

pub mod app;
pub mod balancer;
pub mod fleet;
pub mod load;
pub mod node;
pub mod process;
pub mod repo;
pub mod timeline;
pub mod user;

pub use fleet::{Fleet, Options};
pub use load::{Load, Tally};
pub use timeline::Timeline;
