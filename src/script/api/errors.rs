//! The script boundary for errors: every lower layer's typed error becomes a script error
//! here, and only here, in the words of its `Display` (never its `Debug`).

use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};

use crate::script::context::Context;

/// `impl From<E> for Box<EvalAltResult>`: the error's message, as a runtime error.
macro_rules! by_message {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Box<EvalAltResult> {
            fn from(error: $error) -> Self {
                error.to_string().into()
            }
        }
    )*};
}

/// A script function's argument it cannot work with (a format string, INI text, a
/// template); the message names the function and what it needs.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadArgument(pub(crate) String);

impl From<String> for BadArgument {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for BadArgument {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

by_message!(
    BadArgument,
    crate::git::Error,
    crate::script::scratch::Error,
    crate::script::api::BadSeconds,
    crate::script::env::HostKey,
    crate::output::UnknownLevel,
);

/// rfab's own errors (a task that does not exist, a host string that does not parse...).
/// Ctrl-C ends the script as interrupted, as any interruption does.
impl From<crate::error::Error> for Box<EvalAltResult> {
    fn from(error: crate::error::Error) -> Self {
        match error {
            crate::error::Error::Interrupted => {
                EvalAltResult::ErrorTerminated(Dynamic::UNIT, Position::NONE).into()
            }
            other => other.to_string().into(),
        }
    }
}

/// A load balancer's failure as a script error. After Ctrl-C it ends the run as interrupted
/// (exit 130), as any interruption does, instead of as a failed task; its message still
/// says where it left the groups.
// Boxed: it goes straight into `map_err` of functions returning `Box<EvalAltResult>`.
#[allow(clippy::unnecessary_box_returns)]
pub(crate) fn lb_failure(ctx: &NativeCallContext, error: crate::lb::Error) -> Box<EvalAltResult> {
    let interrupted = matches!(error, crate::lb::Error::Interrupted(_));
    let message = error.to_string();
    if !interrupted && !crate::signals::interrupted() {
        return EvalAltResult::ErrorRuntime(message.into(), ctx.call_position()).into();
    }
    if let Ok(context) = Context::of(ctx) {
        context.runtime.output.warning(Some("lb"), &message);
    }
    EvalAltResult::ErrorTerminated(message.into(), ctx.call_position()).into()
}
