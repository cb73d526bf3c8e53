//! The hash file (`hash.txt`) that `cargo leptos build` writes beside the server binary and
//! `scripts/hash-names.mjs` rewrites: one `key: hash` line for each file under `/pkg` that a
//! page links by its content-hashed name. The server reads it at start to check the site it
//! serves (`server/src/assets.rs`); the pages' shell reads it to link the split loader
//! (`crate::app`).

use std::path::PathBuf;

use leptos::config::LeptosOptions;

/// Where this binary's hash file is: beside the binary, under the name the options give.
pub fn path(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(options.hash_file.as_ref()))
}

/// The entries of a hash file's `text`, as `(key, hash)`; a line without a key or a hash is
/// skipped.
pub fn entries(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, hash)| (key.trim(), hash.trim()))
        .filter(|(key, hash)| !key.is_empty() && !hash.is_empty())
}

/// The name under `/pkg` of the file an entry names: the script, the wasm and the stylesheet
/// (`<output_name>.<hash>.<key>`), the split loader and its manifest; `None` for another key.
pub fn file_name(key: &str, hash: &str, output_name: &str) -> Option<String> {
    match key {
        "js" | "wasm" | "css" => Some(format!("{output_name}.{hash}.{key}")),
        "split" => Some(format!("__wasm_split.{hash}.js")),
        "manifest" => Some(format!("__wasm_split_manifest.{hash}.json")),
        _ => None,
    }
}

/// The name under `/pkg` that this binary's hash file gives the file of `key` (`"css"`,
/// `"split"`, ...); `None` when the hash file cannot be read or has no such entry.
pub fn hashed_name(options: &LeptosOptions, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path(options)?).ok()?;
    let (key, hash) = entries(&text).find(|(entry, _)| *entry == key)?;
    file_name(key, hash, &options.output_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_names_a_file_by_its_key() {
        let text =
            "js: AAAA\nwasm:AAAA\n css : CCCC\nmanifest: MMMM\nsplit: SS-_x\nsplit:   \nodd\n";
        let names: Vec<Option<String>> = entries(text)
            .map(|(key, hash)| file_name(key, hash, "knock"))
            .collect();
        assert_eq!(
            names,
            [
                "knock.AAAA.js",
                "knock.AAAA.wasm",
                "knock.CCCC.css",
                "__wasm_split_manifest.MMMM.json",
                "__wasm_split.SS-_x.js",
            ]
            .map(|name| Some(name.to_owned()))
        );
        assert_eq!(file_name("other", "AAAA", "knock"), None);
    }
}
