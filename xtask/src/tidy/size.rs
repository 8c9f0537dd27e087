//! Size limits: no Rust file over [`MAX_LINES`] lines; in a crate's `src/`, no file over
//! [`MAX_SRC_LINES`], no function over [`MAX_FN_LINES`], and no
//! `#[allow(clippy::too_many_arguments)]` (group the arguments into a struct instead).

use std::path::Path;

use super::{CRATES, read, rust_files};

/// The longest any Rust source file (tests and benches included) may be.
pub const MAX_LINES: usize = 500;

/// The longest a file in a crate's `src/` may be.
pub const MAX_SRC_LINES: usize = 400;

/// The longest a function in a crate's `src/` may be, from its `fn` line to its closing brace.
pub const MAX_FN_LINES: usize = 80;

/// The allowance that long argument lists would need.
// Spelled in two pieces, so that this file does not match itself.
const MANY_ARGUMENTS: &str = concat!("allow(clippy::", "too_many_arguments)");

/// The name of the function a line declares, when it opens one with a body (`fn` at the start
/// of the line after visibility and qualifiers; not a declaration ending in `;`).
fn declared_fn(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    if rest.starts_with("pub") {
        rest = rest.strip_prefix("pub")?;
        if let Some(scoped) = rest.strip_prefix('(') {
            rest = &scoped[scoped.find(')')? + 1..];
        }
        rest = rest.trim_start();
    }
    for qualifier in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        if let Some(stripped) = rest.strip_prefix(qualifier) {
            rest = stripped.trim_start();
        }
    }
    let name = rest.strip_prefix("fn ")?;
    if line.trim_end().ends_with(';') {
        return None;
    }
    let end = name
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(name.len());
    Some(&name[..end])
}

/// Every function of `text` longer than [`MAX_FN_LINES`]: `(name, first line (1-based),
/// length)`. A function ends at the first later line that is a `}` at its own indentation
/// (rustfmt's layout).
pub fn long_functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = declared_fn(line) else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let closing = lines[i + 1..].iter().position(|l| {
            l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
        });
        if let Some(offset) = closing {
            let length = offset + 2;
            if length > MAX_FN_LINES {
                found.push((name.to_string(), i + 1, length));
            }
        }
    }
    found
}

/// Files over the line limits, functions over [`MAX_FN_LINES`] and too-many-arguments
/// allowances, as messages.
pub fn size_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for krate in CRATES {
        for file in rust_files(&root.join(krate)) {
            let shown = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string();
            let text = read(&file);
            let lines = text.lines().count();
            let in_src = file.starts_with(root.join(krate).join("src"));
            let limit = if in_src { MAX_SRC_LINES } else { MAX_LINES };
            if lines > limit {
                problems.push(format!(
                    "{shown} has {lines} lines (at most {limit}): split it"
                ));
            }
            if !in_src {
                continue;
            }
            for (name, line, length) in long_functions(&text) {
                problems.push(format!(
                    "{shown}:{line}: fn {name} has {length} lines (at most {MAX_FN_LINES}): \
                     split it into named steps"
                ));
            }
            for (i, line) in text.lines().enumerate() {
                if line.contains(MANY_ARGUMENTS) && !line.trim_start().starts_with("//") {
                    problems.push(format!(
                        "{shown}:{}: {MANY_ARGUMENTS}: group the arguments into a struct",
                        i + 1
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, indent: &str, body_lines: usize) -> String {
        let mut text = format!("{indent}pub(crate) fn {name}(x: u8) -> u8 {{\n");
        for _ in 0..body_lines {
            text.push_str(&format!("{indent}    let _ = x;\n"));
        }
        text.push_str(&format!("{indent}}}\n"));
        text
    }

    #[test]
    fn a_function_over_the_limit_is_found_with_its_line_and_length() {
        let text = format!(
            "//! doc\n{}{}",
            function("short", "", MAX_FN_LINES - 2),
            function("long", "    ", MAX_FN_LINES - 1)
        );
        let found = long_functions(&text);
        let first_line = 2 + MAX_FN_LINES;
        assert_eq!(found, vec![("long".into(), first_line, MAX_FN_LINES + 1)]);
    }

    #[test]
    fn declarations_without_a_body_and_other_lines_are_not_functions() {
        assert_eq!(declared_fn("    fn num_modules(&self) -> usize;"), None);
        assert_eq!(declared_fn("let f = |x| x; // fn in a comment"), None);
        assert_eq!(declared_fn("pub const fn new() -> Self {"), Some("new"));
        assert_eq!(
            declared_fn("    pub(super) fn run<M>(&self) {"),
            Some("run")
        );
        assert_eq!(declared_fn("unsafe fn raw(p: *const u8) {"), Some("raw"));
    }
}
