//! `--set key=value,flag,empty=`: Fabric's way to seed `env` from the command line.

use rhai::Dynamic;

use crate::error::{Error, Result};
use crate::script::invocation::{split_escaped, split_key_value};

/// Parses one `--set` value into env entries: `k=v` is a string, `k` is `true`, `k=` is `""`.
pub(crate) fn parse(item: &str) -> Result<Vec<(String, Dynamic)>> {
    split_escaped(item, ',')
        .into_iter()
        .map(|pair| {
            let (key, value) = split_key_value(&pair);
            let key = key.trim().to_owned();
            if key.is_empty() {
                let message = if pair.is_empty() {
                    "an empty entry".into()
                } else {
                    format!("`{pair}` has no key")
                };
                return Err(Error::Set {
                    item: item.into(),
                    message,
                });
            }
            Ok((key, value.map_or(Dynamic::TRUE, Dynamic::from)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(item: &str) -> String {
        match parse(item) {
            Ok(pairs) => pairs
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(" "),
            Err(Error::Set { message, .. }) => format!("error: {message}"),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn fabric_semantics() {
        let table = [
            ("x", "x=true"),
            ("x=", r#"x="""#),
            ("x=1", r#"x="1""#),
            ("a=1,b", r#"a="1" b=true"#),
            (r"msg=a\,b", r#"msg="a,b""#),
            (r"url=a=b", r#"url="a=b""#),
            (r"k\=x=y", r#"k=x="y""#),
            ("a,,b", "error: an empty entry"),
            ("=1", "error: `=1` has no key"),
            ("", "error: an empty entry"),
        ];
        for (item, want) in table {
            assert_eq!(show(item), want, "--set {item}");
        }
    }
}
