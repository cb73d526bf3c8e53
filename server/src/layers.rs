//! The module graph of the server (the `app` crate and this one), read from the source: no two
//! modules import each other, directly or around a circle, and each layer imports only the
//! layers below it (domain ← repositories ← services ← adapters, STYLE.md's *Layers*).
//! Running it as a test keeps `make test` red the moment a cycle or an upward import appears.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Module path (`app::ssr::lobby::knock`) → the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source files of a crate, each with its module path (`lib.rs`/`main.rs` are the root).
fn modules(root: &Path, krate: &str) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(root).expect("under the root");
                let mut segments: Vec<String> = relative
                    .with_extension("")
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if matches!(segments.as_slice(), [only] if only == "lib" || only == "main") {
                    segments.clear();
                }
                let name = std::iter::once(krate.to_owned())
                    .chain(segments)
                    .collect::<Vec<_>>();
                found.push((name.join("::"), path));
            }
        }
    }
    found
}

/// The source without `//` comments and string literals, so only code is read.
fn code_of(source: &str) -> String {
    let mut code = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for next in chars.by_ref() {
                    match next {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                code.push_str("\"\"");
            }
            // A char literal such as '"' must not open a string.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\\") || rest.chars().nth(1) == Some('\'') {
                    for next in chars.by_ref() {
                        if next == '\'' {
                            break;
                        }
                    }
                    code.push_str("' '");
                } else {
                    code.push(c);
                }
            }
            _ => code.push(c),
        }
    }
    code
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into its paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    // One space between words (`e as f`), none around `::`, braces and commas.
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = ["::", "{", "}", ","].iter().fold(tree, |tree, token| {
        tree.replace(&format!(" {token}"), token)
            .replace(&format!("{token} "), token)
    });
    fn go(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        if let Some(open) = tree.find('{') {
            let mut prefix = prefix.to_vec();
            prefix.extend(
                tree[..open]
                    .split("::")
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned),
            );
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(&prefix, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            go(&prefix, &inner[start..], out);
        } else if !tree.is_empty() {
            let path = tree.split(' ').next().unwrap_or(tree);
            let mut full = prefix.to_vec();
            full.extend(
                path.split("::")
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
            out.push(full);
        }
    }
    let mut out = Vec::new();
    go(&[], &tree, &mut out);
    out
}

/// Every path the code names: `use` trees, and `crate::…`/`super::…`/`app::…` paths inline.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        let starts_statement = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if starts_statement && let Some(end) = after.find(';') {
            paths.extend(expand(&after[..end]));
        }
        rest = after;
    }
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0
            || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        if starts_word && (bytes[i].is_alphabetic() || bytes[i] == '_') {
            let mut j = i;
            let mut segments = vec![String::new()];
            while j < bytes.len() {
                let c = bytes[j];
                if c.is_alphanumeric() || c == '_' {
                    segments.last_mut().expect("one segment").push(c);
                    j += 1;
                } else if c == ':' && bytes.get(j + 1) == Some(&':') {
                    segments.push(String::new());
                    j += 2;
                } else {
                    break;
                }
            }
            // `super::{` starts a use tree, read above; an inline path ends at its last name.
            segments.retain(|segment| !segment.is_empty());
            if segments.len() > 1
                && matches!(segments[0].as_str(), "crate" | "super" | "app" | "server")
            {
                paths.push(segments);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    paths
}

/// The module a path starting in `module` (of `krate`) leads to, if it is one of ours.
fn resolve(module: &str, krate: &str, path: &[String], known: &BTreeSet<String>) -> Option<String> {
    let mut base: Vec<String> = module.split("::").map(str::to_owned).collect();
    let mut segments = path.iter().peekable();
    match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            base = vec![krate.to_owned()];
            segments.next();
        }
        Some("self") => {
            segments.next();
        }
        Some("super") => {
            while segments.peek().map(|s| s.as_str()) == Some("super") {
                base.pop();
                segments.next();
            }
        }
        Some(first) => {
            let child = format!("{module}::{first}");
            if !known.contains(&child) {
                // Another crate: ours only if it is `app` or `server`.
                if (first == "app" || first == "server") && first != krate {
                    base = vec![first.to_owned()];
                    segments.next();
                } else {
                    return None;
                }
            }
        }
        None => return None,
    }
    let mut target = base.join("::");
    for segment in segments {
        let deeper = format!("{target}::{segment}");
        if known.contains(&deeper) {
            target = deeper;
        } else {
            break;
        }
    }
    known.contains(&target).then_some(target)
}

/// The server's modules: the services, repositories and domain (`app::ssr`), the server
/// functions (`app::api`), and the `server` crate. The pages and the call client run in the
/// browser too and are not part of this graph; the wire types (`app::model`) and `app::error`
/// import none of these, so they cannot close a circle.
fn is_server_side(module: &str) -> bool {
    module == "app::ssr"
        || module.starts_with("app::ssr::")
        || module == "app::api"
        || module.starts_with("app::api::")
        || module == "server"
        || module.starts_with("server::")
}

/// The graph of both crates.
fn graph() -> Graph {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = modules(&manifest.join("../app/src"), "app");
    files.extend(modules(&manifest.join("src"), "server"));
    let known: BTreeSet<String> = files.iter().map(|(name, _)| name.clone()).collect();
    let mut graph = Graph::new();
    for (module, file) in &files {
        let krate = module.split("::").next().expect("a crate");
        let source = fs::read_to_string(file).expect("readable source");
        let edges = graph.entry(module.clone()).or_default();
        for path in paths_in(&code_of(&source)) {
            if let Some(target) = resolve(module, krate, &path, &known)
                && target != *module
                && is_server_side(&target)
            {
                edges.insert(target);
            }
        }
    }
    graph.retain(|module, _| is_server_side(module));
    graph
}

/// A cycle in `graph`, as the modules around it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_imports_itself_around_a_circle() {
    let graph = graph();
    assert!(
        graph.len() > 30,
        "the source was read: {} modules",
        graph.len()
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

/// What each lower layer may import (besides the wire types and the error, outside this graph).
const LAYERS: &[(&str, &[&str])] = &[
    // The rules: pure, over themselves and the pure helpers (name rules, hashing).
    (
        "app::ssr::domain",
        &[
            "app::ssr::domain",
            "app::ssr::validate",
            "app::ssr::secrets",
        ],
    ),
    // The repositories: SQL over the domain's types.
    ("app::ssr::db", &["app::ssr::db", "app::ssr::domain"]),
];

fn within(module: &str, prefix: &str) -> bool {
    module == prefix || module.starts_with(&format!("{prefix}::"))
}

/// The imports that point up or sideways out of a lower layer.
fn upward_imports(graph: &Graph) -> Vec<String> {
    let mut wrong = Vec::new();
    for (layer, allowed) in LAYERS {
        for (module, targets) in graph.iter().filter(|(module, _)| within(module, layer)) {
            for target in targets {
                if !allowed.iter().any(|prefix| within(target, prefix)) {
                    wrong.push(format!("{module} -> {target}"));
                }
            }
        }
    }
    wrong
}

#[test]
fn the_domain_and_the_repositories_import_nothing_above_them() {
    let wrong = upward_imports(&graph());
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_finds_an_upward_import() {
    let mut graph = Graph::new();
    graph
        .entry("app::ssr::db::sessions".into())
        .or_default()
        .insert("app::ssr::lobby".into());
    graph
        .entry("app::ssr::domain::lobby".into())
        .or_default()
        .insert("app::ssr::domain::names".into());
    assert_eq!(
        upward_imports(&graph),
        vec!["app::ssr::db::sessions -> app::ssr::lobby".to_owned()]
    );
}

#[test]
fn the_check_finds_a_cycle_when_there_is_one() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").expect("c").clear();
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn use_trees_and_inline_paths_are_read() {
    let code = code_of(
        "use super::{db::{self, knocks::Knock}, lobby as l, Phase};\n// use crate::fake;\nfn f() { crate::ssr::lobby::join(); let s = \"crate::nope\"; }",
    );
    let paths = paths_in(&code);
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert!(joined.contains(&"super::db::self".to_owned()), "{joined:?}");
    assert!(
        joined.contains(&"super::db::knocks::Knock".to_owned()),
        "{joined:?}"
    );
    assert!(joined.contains(&"super::lobby".to_owned()), "{joined:?}");
    assert!(joined.contains(&"super::Phase".to_owned()), "{joined:?}");
    assert!(
        joined.contains(&"crate::ssr::lobby::join".to_owned()),
        "{joined:?}"
    );
    assert!(
        !joined
            .iter()
            .any(|p| p.contains("fake") || p.contains("nope")),
        "{joined:?}"
    );
}
