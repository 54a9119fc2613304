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

/// Edit distance over chars, a swap of two neighbours counting as one edit (`rnu` is one
/// from `run`, as people mistype): the optimal string alignment distance.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut previous, row);
    }
    previous[b.len()]
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
        assert_eq!(distance("rnu", "run"), 1);
        assert_eq!(closest("hsots", ["hosts", "roles"]), Some("hosts"));
    }
}
