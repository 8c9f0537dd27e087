//! The tidy check "ARCHITECTURE.md's import tables are true": a fenced block
//!
//! ````text
//! ```imports pgl-burn
//! model: head
//! objective: head model
//! ```
//! ````
//!
//! says which top-level modules of the crate each top-level module imports (`objective` uses
//! `head` and `model`). Edges are those of [`module_graph`], folded onto top-level modules
//! (`kernels/conv_cpu` counts as `kernels`). The block must list every top-level module of
//! the crate once, with exactly the modules it imports: an edge the code lacks (invented)
//! and an import the block lacks (drift) are both problems. `cargo xtask imports CRATE`
//! prints the true block.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::modules::{ModuleGraph, module_graph};

/// Top-level module → the top-level modules it imports.
pub type TopLevelImports = BTreeMap<String, BTreeSet<String>>;

fn top(module: &str) -> &str {
    module.split('/').next().unwrap_or(module)
}

/// `graph` folded onto top-level modules; the crate root is left out (it declares and
/// re-exports, it does not import).
pub fn top_level(graph: &ModuleGraph) -> TopLevelImports {
    let mut folded = TopLevelImports::new();
    for (module, targets) in graph {
        if module.is_empty() {
            continue;
        }
        let from = top(module).to_string();
        let edges = folded.entry(from.clone()).or_default();
        for target in targets {
            let to = top(target);
            if !to.is_empty() && to != from {
                edges.insert(to.to_string());
            }
        }
    }
    folded
}

/// The block that states `imports` for `krate`, as ARCHITECTURE.md holds it.
pub fn block(krate: &str, imports: &TopLevelImports) -> String {
    let mut out = format!("```imports {krate}\n");
    for (module, targets) in imports {
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        out.push_str(&format!("{module}: {}\n", targets.join(" ")).replace(": \n", ":\n"));
    }
    out.push_str("```\n");
    out
}

/// The import blocks of a markdown document: crate → (module → imports), or a message for a
/// malformed line.
pub fn declared(markdown: &str) -> Result<BTreeMap<String, TopLevelImports>, String> {
    let mut blocks = BTreeMap::new();
    let mut current: Option<(String, TopLevelImports)> = None;
    for (number, line) in markdown.lines().enumerate() {
        let line = line.trim();
        if let Some((krate, table)) = current.take() {
            if line == "```" {
                blocks.insert(krate, table);
                continue;
            }
            let (module, targets) = line.split_once(':').ok_or_else(|| {
                format!(
                    "ARCHITECTURE.md line {}: `{line}` is not `module: imports…`",
                    number + 1
                )
            })?;
            let mut table = table;
            let targets = targets.split_whitespace().map(str::to_string).collect();
            if table.insert(module.trim().to_string(), targets).is_some() {
                return Err(format!(
                    "ARCHITECTURE.md line {}: module `{}` listed twice",
                    number + 1,
                    module.trim()
                ));
            }
            current = Some((krate, table));
        } else if let Some(krate) = line.strip_prefix("```imports ") {
            current = Some((krate.trim().to_string(), TopLevelImports::new()));
        }
    }
    match current {
        Some((krate, _)) => Err(format!(
            "ARCHITECTURE.md: the `imports {krate}` block is not closed"
        )),
        None => Ok(blocks),
    }
}

/// Differences between what a block declares for `krate` and the code's imports, as messages.
pub fn differences(
    krate: &str,
    declared: &TopLevelImports,
    actual: &TopLevelImports,
) -> Vec<String> {
    let mut problems = Vec::new();
    let none = BTreeSet::new();
    for (module, targets) in declared {
        let Some(real) = actual.get(module) else {
            problems.push(format!(
                "ARCHITECTURE.md lists module `{module}` of {krate}, which does not exist"
            ));
            continue;
        };
        for target in targets.difference(real) {
            problems.push(format!(
                "ARCHITECTURE.md says {krate}'s `{module}` imports `{target}`; it does not"
            ));
        }
    }
    for (module, real) in actual {
        let said = declared.get(module).unwrap_or(&none);
        if !declared.contains_key(module) {
            problems.push(format!(
                "ARCHITECTURE.md's `imports {krate}` block lacks module `{module}`"
            ));
        }
        for target in real.difference(said) {
            problems.push(format!(
                "{krate}'s `{module}` imports `{target}`; ARCHITECTURE.md does not say so"
            ));
        }
    }
    problems
}

/// Every import block of ARCHITECTURE.md under `root` checked against the code, as messages.
pub fn import_drift(root: &Path) -> Vec<String> {
    let doc = super::read(&root.join("ARCHITECTURE.md"));
    let blocks = match declared(&doc) {
        Ok(blocks) => blocks,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    for (krate, table) in &blocks {
        let src = root.join(krate).join("src");
        if !src.is_dir() {
            problems.push(format!(
                "ARCHITECTURE.md has an `imports {krate}` block; no such crate"
            ));
            continue;
        }
        problems.extend(differences(krate, table, &top_level(&module_graph(&src))));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lines: &[(&str, &[&str])]) -> TopLevelImports {
        lines
            .iter()
            .map(|(m, t)| (m.to_string(), t.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn an_invented_edge_and_a_missing_one_are_both_found() {
        let actual = table(&[("head", &[]), ("model", &["head"]), ("step", &["model"])]);
        let doc = "text\n```imports pgl-burn\nhead:\nmodel: head step\nstep:\n```\n";
        let declared = declared(doc).unwrap();
        let problems = differences("pgl-burn", &declared["pgl-burn"], &actual);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`model` imports `step`; it does not"));
        assert!(problems[1].contains("`step` imports `model`; ARCHITECTURE.md does not say so"));
        // The true block round-trips.
        let doc = block("pgl-burn", &actual);
        let declared = super::declared(&doc).unwrap();
        assert!(differences("pgl-burn", &declared["pgl-burn"], &actual).is_empty());
    }

    #[test]
    fn a_missing_module_and_a_malformed_block_are_reported() {
        let actual = table(&[("head", &[]), ("model", &["head"])]);
        let declared_tables = declared("```imports x\nhead:\nghost: head\n```").unwrap();
        let problems = differences("x", &declared_tables["x"], &actual);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("module `ghost` of x, which does not exist"))
        );
        assert!(problems.iter().any(|p| p.contains("lacks module `model`")));
        assert!(declared("```imports x\nno colon here\n```").is_err());
        assert!(declared("```imports x\nhead:\n").is_err());
    }

    #[test]
    fn nested_modules_fold_onto_their_top_level_module() {
        let mut graph = ModuleGraph::new();
        graph.insert(
            "kernels/conv_cpu".into(),
            ["model".into(), "kernels".into()].into(),
        );
        graph.insert("model".into(), BTreeSet::new());
        graph.insert(String::new(), ["model".into()].into());
        let folded = top_level(&graph);
        assert_eq!(folded, table(&[("kernels", &["model"]), ("model", &[])]));
    }
}
