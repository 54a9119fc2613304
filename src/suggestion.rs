//! "Did you mean `deploy`?": the closest known name to a mistyped one.

/// The candidate nearest to `name` by edit distance, if it is near enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_only() {
        let tasks = ["deploy", "prod", "proxy.flip", "proxy.all"];
        assert_eq!(closest("deplyo", tasks), Some("deploy"));
        assert_eq!(closest("proxy.flp", tasks), Some("proxy.flip"));
        assert_eq!(closest("prd", tasks), Some("prod"));
        assert_eq!(closest("rollback", tasks), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
