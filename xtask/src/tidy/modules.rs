//! The module graph of a crate and its cycles, for the tidy check "no circular module
//! imports".
//!
//! A module imports another when its code (outside `#[cfg(test)]` blocks and comments) names
//! it in a `crate::…` or `super::…` path. Paths through a re-export (`pub use child::Item` in
//! `lib.rs` or a `mod.rs`) are followed to the module that defines the item. A module's own
//! ancestors and descendants are structure (declaration, re-export, `super::` to the parent's
//! items), not imports, and are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{read, rust_files};

/// The module graph of one crate: module path (`"schedule/registry"`, `""` for the root) →
/// the modules it imports.
pub type ModuleGraph = BTreeMap<String, BTreeSet<String>>;

/// The module path of a source file relative to `src` (`schedule/mod.rs` → `schedule`,
/// `lib.rs`/`main.rs` → the root `""`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts.join("/")
}

/// `pub use child::{A, B}` / `pub use child::A` in a module: item name → child module.
fn reexports(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for statement in text.split(';') {
        let statement = statement.trim();
        let Some(rest) = statement.strip_prefix("pub use ") else {
            continue;
        };
        let Some((head, items)) = rest.split_once("::") else {
            continue;
        };
        let child = join(module, head.trim());
        if !modules.contains(&child) {
            continue;
        }
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.split("::").last().unwrap_or("").trim();
            let name = name.split(" as ").last().unwrap_or(name).trim();
            if !name.is_empty() {
                map.insert(name.to_string(), child.clone());
            }
        }
    }
    map
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}/{child}")
    }
}

fn parent_of(module: &str) -> String {
    module
        .rsplit_once('/')
        .map_or(String::new(), |(p, _)| p.to_string())
}

/// Resolves `segments` (a path after `crate::` or relative to `base`) to the module that
/// defines its first item, following re-exports of parent modules.
fn resolve(
    base: &str,
    segments: &[&str],
    modules: &BTreeSet<String>,
    exports: &BTreeMap<String, BTreeMap<String, String>>,
) -> Option<String> {
    let mut current = base.to_string();
    for segment in segments {
        let segment = segment.trim();
        let child = join(&current, segment);
        if modules.contains(&child) {
            current = child;
            continue;
        }
        if let Some(target) = exports.get(&current).and_then(|m| m.get(segment)) {
            return Some(target.clone());
        }
        break;
    }
    Some(current)
}

/// Every `crate::…`, `super::…` path in `text`, as `(base module, segments)`: `crate`
/// paths start at the root, `super` paths at `module`'s parent. A group
/// (`crate::{a::X, b::Y}`) gives one path per member.
fn paths_in(module: &str, text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent_of(module))] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let members = if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0usize;
                let end = group
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => return true,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        false
                    })
                    .map_or(group.len(), |(i, _)| i);
                split_top_level(&group[..end])
            } else {
                vec![rest.to_string()]
            };
            for member in members {
                let end = member
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(member.len());
                let segments: Vec<String> = member[..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if !segments.is_empty() {
                    found.push((base.clone(), segments));
                }
            }
        }
    }
    found
}

/// Splits `a::X, b::{Y, Z}` at the commas outside braces, trimmed.
fn split_top_level(group: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0usize, String::new());
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current.trim().to_string());
    parts
}

/// The module graph of the crate whose sources are in `src`.
pub fn module_graph(src: &Path) -> ModuleGraph {
    let files = rust_files(src);
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| (module_of(src, f), code_outside_tests(&read(f))))
        .collect();
    let modules: BTreeSet<String> = texts.iter().map(|(m, _)| m.clone()).collect();
    let exports: BTreeMap<String, BTreeMap<String, String>> = texts
        .iter()
        .map(|(m, t)| (m.clone(), reexports(m, t, &modules)))
        .collect();
    let mut graph = ModuleGraph::new();
    for (module, text) in &texts {
        let edges = graph.entry(module.clone()).or_default();
        for (base, path) in paths_in(module, text) {
            let segments: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(target) = resolve(&base, &segments, &modules, &exports) else {
                continue;
            };
            // A module's own descendants and ancestors are structure (declaration, re-export,
            // `super::` to the parent's items), not sibling imports.
            let is_ancestor = module.starts_with(&format!("{target}/")) || target.is_empty();
            let is_descendant = target.starts_with(&format!("{module}/")) || module.is_empty();
            if target != *module && !is_ancestor && !is_descendant {
                edges.insert(target);
            }
        }
    }
    graph
}

/// The code of a file without its `#[cfg(test)]` part (test modules sit at the end of a
/// file and may use anything) and without `//` comments (paths in prose are not imports).
fn code_outside_tests(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cycles of `graph`, each as the modules along it.
pub fn cycles(graph: &ModuleGraph) -> Vec<Vec<String>> {
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    let mut cycle = path.clone();
                    // Rotate so each cycle is reported once, from its smallest module.
                    let smallest = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                    cycle.rotate_left(smallest);
                    found.insert(cycle);
                } else if !path.contains(next) && next > start {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn a_cycle_between_two_sibling_modules_is_found() {
        let dir = std::env::temp_dir().join(format!("pgl-tidy-{}", std::process::id()));
        let src = dir.join("src");
        fs::create_dir_all(src.join("schedule")).unwrap();
        let files = [
            (
                "lib.rs",
                "pub mod a;\npub mod b;\npub mod schedule;\npub use a::Alpha;\n",
            ),
            (
                "a.rs",
                "use crate::{b::Beta, schedule::One};\npub struct Alpha;\n",
            ),
            (
                "b.rs",
                "/// crate::a in prose is no import\npub struct Beta(crate::Alpha);\n",
            ),
            (
                "schedule/mod.rs",
                "mod one;\npub use one::One;\npub trait T {}\n",
            ),
            (
                "schedule/one.rs",
                "use super::T;\npub struct One;\n#[cfg(test)]\nuse crate::a;\n",
            ),
        ];
        for (name, text) in files {
            fs::write(src.join(name), text).unwrap();
        }
        let graph = module_graph(&src);
        let found = cycles(&graph);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            vec![vec!["a".to_string(), "b".to_string()]],
            "{graph:?}"
        );
        assert!(graph["a"].contains("schedule/one"), "{graph:?}");
        assert!(graph["schedule/one"].is_empty(), "{graph:?}");
    }
}
