//! The planner's files import each other in one direction: no file reaches,
//! through any chain of `use` and paths, back to itself. A module's root
//! (`mod.rs`, `lib.rs`) declares and re-exports its own children; those
//! edges are not imports.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, by module path (`plan::diff`, `plan`).
fn modules(root: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            modules(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            out.insert(parts.join("::"), path);
        }
    }
}

/// Code without comments (line comments and doc comments; the planner has
/// no block comments) and without `#[cfg(test)]` modules.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file refers to through `super::`, `crate::` and the
/// names of `use` groups.
fn references(
    module: &str,
    is_root: bool,
    text: &str,
    known: &BTreeSet<String>,
) -> BTreeSet<String> {
    let parent: Vec<&str> = {
        let mut p: Vec<&str> = if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").collect()
        };
        if !is_root {
            p.pop();
        }
        p
    };
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    for (prefix, base) in [("super::", parent.clone()), ("crate::", Vec::new())] {
        let mut from = 0;
        while let Some(i) = text[from..].find(prefix) {
            let start = from + i + prefix.len();
            from = start;
            if start > prefix.len()
                && (bytes[start - prefix.len() - 1].is_ascii_alphanumeric()
                    || bytes[start - prefix.len() - 1] == b'_')
            {
                continue;
            }
            // The path after the prefix: idents joined by `::`, or a group.
            let rest = &text[start..];
            let heads: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(',')
                    .map(|s| s.trim().split("::").next().unwrap_or("").trim().to_owned())
                    .collect()
            } else {
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                vec![path]
            };
            for head in heads {
                // The longest known module the path starts with.
                let mut parts = base.iter().map(|s| s.to_string()).collect::<Vec<_>>();
                let mut best = parts.join("::");
                for seg in head.split("::").filter(|s| !s.is_empty()) {
                    parts.push(seg.to_owned());
                    let candidate = parts.join("::");
                    if known.contains(&candidate) {
                        best = candidate;
                    } else {
                        break;
                    }
                }
                if best != module {
                    out.insert(best);
                }
            }
        }
    }
    out
}

#[test]
fn planner_files_import_without_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    modules(&root, &root, &mut files);
    let known: BTreeSet<String> = files.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let is_root = path.ends_with("mod.rs") || path.ends_with("lib.rs");
        let text = code(&std::fs::read_to_string(path).expect("readable"));
        let mut refs = references(module, is_root, &text, &known);
        if is_root {
            // A root declares and re-exports its children.
            refs.retain(|r| {
                let child = if module.is_empty() {
                    !r.contains("::")
                } else {
                    r.strip_prefix(&format!("{module}::"))
                        .is_some_and(|rest| !rest.contains("::"))
                };
                !child
            });
        }
        edges.insert(module.clone(), refs);
    }
    // Depth-first search for a back edge, reporting the cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        if let Some(cycle) = visit(module, &edges, &mut Vec::new(), &mut done) {
            panic!("import cycle in the planner: {}", cycle.join(" -> "));
        }
    }
    // The check sees the imports it must.
    assert!(edges["plan::facts"].contains("plan::intermediate"));
    assert!(edges["plan::diff"].contains("plan::facts"));
    assert!(edges["script"].contains("statement"));
}
