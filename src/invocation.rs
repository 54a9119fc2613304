//! One task requested on the command line: `deploy:stable,hosts=a;b` as data.

/// A task invocation, parsed but not yet checked against the fabfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// The word as the user typed it, for messages.
    pub(crate) word: String,
    /// The task name, with namespaces as dots: `proxy.flip`.
    pub(crate) task: String,
    pub(crate) args: Vec<String>,
    /// Keyword arguments in the order given.
    pub(crate) kwargs: Vec<(String, String)>,
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) exclude_hosts: Vec<String>,
}

impl Invocation {
    /// How many arguments the task is called with.
    pub(crate) fn arity(&self) -> usize {
        self.args.len() + self.kwargs.len()
    }
}
