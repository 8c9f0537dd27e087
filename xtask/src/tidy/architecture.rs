//! The tidy check "ARCHITECTURE.md is true": every file path, `pgl`/`cargo xtask` command and
//! type it names in backticks exists. A type exists when the workspace's code defines or uses
//! it; name a type of another crate that the code does not use with its path
//! (`burn::tensor::…::Name`), which is not checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{CRATES, read, rust_files};

/// Every text between backticks in `markdown`, outside fenced code blocks.
fn backticked(markdown: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(inside), Some(_)) = (parts.next(), parts.next()) {
            spans.push(inside.to_string());
        }
    }
    spans
}

/// Names in ARCHITECTURE.md that do not exist, as messages: file paths (`a/b.rs`, `x.rs`),
/// commands (`pgl NAME`, `cargo xtask NAME`) and types (`CamelCase`).
pub fn architecture_drift(root: &Path) -> Vec<String> {
    let doc = read(&root.join("ARCHITECTURE.md"));
    let sources: Vec<PathBuf> = CRATES
        .iter()
        .flat_map(|k| rust_files(&root.join(k)))
        .collect();
    let words: BTreeSet<String> = sources
        .iter()
        .flat_map(|f| {
            read(f)
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let file_names: BTreeSet<String> = sources
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let mut problems = Vec::new();
    for span in backticked(&doc) {
        let span = span.trim();
        if let Some(command) = span.strip_prefix("pgl ") {
            let name = command.split_whitespace().next().unwrap_or("");
            if name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && !pgl_commands(&root.join("pgl-cli/src/main.rs")).contains(&name.to_string())
            {
                problems.push(format!(
                    "ARCHITECTURE.md names `pgl {name}`, which is not a command"
                ));
            }
        } else if let Some(command) = span.strip_prefix("cargo xtask ") {
            let name = command.split_whitespace().next().unwrap_or("");
            if !read(&root.join("xtask/src/main.rs")).contains(&format!("\"{name}\"")) {
                problems.push(format!(
                    "ARCHITECTURE.md names `cargo xtask {name}`, which is not a task"
                ));
            }
        } else if is_path(span) {
            let path = span.trim_end_matches('/');
            let exists = root.join(path).exists()
                || file_names.contains(path)
                || CRATES.iter().any(|k| {
                    root.join(k).join(path).exists() || root.join(k).join("src").join(path).exists()
                });
            if !exists {
                problems.push(format!(
                    "ARCHITECTURE.md names `{span}`, which does not exist"
                ));
            }
        } else if is_type_name(span) && !words.contains(span) {
            problems.push(format!(
                "ARCHITECTURE.md names type `{span}`, which is not defined"
            ));
        }
    }
    problems
}

/// The subcommand names of the `pgl` binary (its `Command` enum's variants, kebab-cased).
fn pgl_commands(main_rs: &Path) -> Vec<String> {
    let text = read(main_rs);
    let Some(start) = text.find("enum Command {") else {
        return Vec::new();
    };
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('#'))
        .filter_map(|l| {
            let name: String = l.chars().take_while(|c| c.is_alphanumeric()).collect();
            name.chars()
                .next()
                .filter(char::is_ascii_uppercase)
                .map(|_| name)
        })
        .map(|name| {
            let mut kebab = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            }
            kebab
        })
        .collect()
}

/// `a/b.rs`, `x.rs`, `folder/`: a path-like span (no spaces, a known extension or a slash).
fn is_path(span: &str) -> bool {
    !span.contains(' ')
        && !span.contains("::")
        && !span.contains('<')
        && !span.starts_with('-')
        && !span.contains('*')
        && !span.contains('{')
        && (span.ends_with(".rs")
            || span.ends_with(".toml")
            || span.ends_with(".md")
            || span.ends_with(".sh")
            || span.ends_with(".py")
            || (span.contains('/') && !span.contains('=') && !span.contains('.')))
}

/// `StepContext`: a bare CamelCase identifier.
fn is_type_name(span: &str) -> bool {
    let mut chars = span.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && span.chars().all(|c| c.is_ascii_alphanumeric())
        && span.chars().any(|c| c.is_ascii_lowercase())
        && span.len() > 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_path_spans_are_told_apart() {
        assert!(is_type_name("StepContext"));
        assert!(!is_type_name("K"));
        assert!(!is_type_name("cpu"));
        assert!(is_path("pgl-burn/src/trainer.rs"));
        assert!(is_path("trainer.rs"));
        assert!(!is_path("every:iters=50,len=1"));
        assert!(!is_path("--pipeline W"));
    }

    #[test]
    fn backticked_spans_skip_code_blocks() {
        let doc = "a `One` b `two.rs`\n```\n`Three`\n```\n";
        assert_eq!(backticked(doc), vec!["One", "two.rs"]);
    }
}
