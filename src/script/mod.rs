//! Fabfiles and what runs them: the Rhai engine, tasks, env, the executor, and the API scripts see.

pub(crate) mod abort;
pub(crate) mod api;
pub(crate) mod check;
pub(crate) mod context;
pub(crate) mod decorators;
pub(crate) mod definitions;
pub(crate) mod diagnostic;
pub(crate) mod engine;
pub(crate) mod env;
pub(crate) mod executor;
pub(crate) mod fabfile;
pub(crate) mod host_list;
pub(crate) mod invocation;
pub(crate) mod limits;
pub(crate) mod listing;
pub(crate) mod load;
pub(crate) mod methods;
pub(crate) mod pool;
pub(crate) mod reference;
pub(crate) mod runtime;
pub(crate) mod scoped;
pub(crate) mod scratch;
pub(crate) mod ssh_env;
pub(crate) mod stdlib;
pub(crate) mod task;
