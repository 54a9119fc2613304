//! The API reference on a terminal: its Markdown (the same text as `rfab --api` and
//! `docs/api.md`) without the marks that only a renderer reads. Code blocks lose their
//! fences and are indented by four spaces; a heading is its text, underlined; inline
//! `code` keeps its backticks, which read well as they are.

/// `markdown` as plain text for a terminal.
pub(crate) fn render(markdown: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            lines.push(format!("    {line}").trim_end().to_owned());
        } else if let Some(heading) = heading(line) {
            lines.push(heading.clone());
            lines.push("-".repeat(heading.chars().count()));
        } else {
            lines.push(line.trim_end().to_owned());
        }
    }
    // A fence's own line is gone: the blank lines around it must not pile up.
    lines.dedup_by(|line, previous| line.is_empty() && previous.is_empty());
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let mut text = lines[start..].join("\n");
    text.truncate(text.trim_end().len());
    text
}

/// The text of a `# heading` line, without the backticks around a name in it.
fn heading(line: &str) -> Option<String> {
    let text = line.trim_start_matches('#');
    (text.len() < line.len() && text.starts_with(' ')).then(|| text.trim().replace('`', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_go_and_code_is_indented() {
        let markdown = "\n## `put`\n\n```\nput(a: string)\n```\n\nUploads `a`:\n- one\n\n```rhai\nput(\"x\");\n```\n";
        assert_eq!(
            render(markdown),
            "put\n---\n\n    put(a: string)\n\nUploads `a`:\n- one\n\n    put(\"x\");"
        );
    }
}
