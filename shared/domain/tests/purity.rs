//! A tidy test for the architecture's first invariant, "the domain does no I/O"
//! (ARCHITECTURE.md): `shared/domain/Cargo.toml` may only depend on an allow-list of pure
//! crates, and no code under `shared/domain/src` may reach for the clock, the environment,
//! files, the network, processes, threads or the console. A violation names file and line.
//!
//! The scan reads code only: comments and the contents of string and character literals are
//! blanked first, so prose that names a forbidden call ("never calls `Timestamp::now`") is fine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The runtime dependencies the domain may have. A new one must do no I/O and read no clock,
/// and is added here on purpose, not by accident.
const ALLOWED_DEPENDENCIES: &[&str] = &["jiff", "serde", "thiserror"];

/// Code patterns that mean I/O, with the reason. A pattern matches where an identifier starts,
/// so `Timestamp::now` is found in `jiff::Timestamp::now()` but `File::` not in `Profile::`.
const FORBIDDEN: &[(&str, &str)] = &[
    ("SystemTime", "reads the clock"),
    ("Instant::now", "reads the clock"),
    ("Timestamp::now", "reads the clock"),
    ("Zoned::now", "reads the clock"),
    (
        "TimeZone::system",
        "reads the system time zone (environment and files)",
    ),
    ("std::env", "reads the environment"),
    ("env::var", "reads the environment"),
    ("env::args", "reads the command line"),
    ("std::fs", "touches files"),
    ("File::", "touches files"),
    ("OpenOptions", "touches files"),
    ("std::io", "does I/O"),
    ("std::net", "uses the network"),
    ("TcpStream", "uses the network"),
    ("TcpListener", "uses the network"),
    ("UdpSocket", "uses the network"),
    ("std::process", "starts or ends processes"),
    ("Command::new", "starts a process"),
    ("std::thread", "starts threads"),
    ("thread::spawn", "starts a thread"),
    ("tokio", "is an async I/O runtime"),
    ("println!", "writes to the console"),
    ("print!", "writes to the console"),
    ("eprintln!", "writes to the console"),
    ("eprint!", "writes to the console"),
    ("dbg!", "writes to the console"),
];

/// Allowed in `#[cfg(test)]` code only: tests may name a zone, the domain takes it resolved.
const FORBIDDEN_OUTSIDE_TESTS: &[(&str, &str)] = &[
    ("TimeZone::get", "looks up a time zone by name"),
    ("tz::db", "looks up a time zone by name"),
];

/// Segments of a `use std::…` tree that mean I/O, also when grouped (`use std::{env, fmt};`).
const FORBIDDEN_STD_MODULES: &[&str] = &[
    "env",
    "fs",
    "io",
    "net",
    "process",
    "thread",
    "SystemTime",
    "Instant",
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    what: String,
    code: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file,
            self.line,
            self.what,
            self.code.trim()
        )
    }
}

fn domain_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_domain_depends_only_on_pure_crates() {
    let manifest = std::fs::read_to_string(domain_dir().join("Cargo.toml")).unwrap();
    let dependencies = runtime_dependencies(&manifest);
    assert!(
        dependencies.contains("jiff"),
        "the manifest reader found no dependencies at all: {dependencies:?}"
    );
    let unexpected: Vec<&String> = dependencies
        .iter()
        .filter(|name| !ALLOWED_DEPENDENCIES.contains(&name.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "shared/domain/Cargo.toml: the pure domain may depend only on {ALLOWED_DEPENDENCIES:?}, \
         found also {unexpected:?}; move I/O to an adapter crate, or extend the allow-list in \
         shared/domain/tests/purity.rs for a crate that does no I/O"
    );
}

#[test]
fn the_domain_source_reads_no_clock_environment_file_network_or_process() {
    let src = domain_dir().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.iter().any(|file| file.ends_with("lib.rs")),
        "no source found under {}",
        src.display()
    );
    let mut violations = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file
            .strip_prefix(domain_dir())
            .map_or_else(|_| file.display().to_string(), |p| p.display().to_string());
        violations.extend(scan(&format!("shared/domain/{name}"), &text));
    }
    let report: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "the domain must do no I/O (ARCHITECTURE.md); found:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_manifest_reader_finds_every_form_of_runtime_dependency() {
    let manifest = r#"
[package]
name = "domain"
build = "build.rs"

[dependencies]
jiff.workspace = true
serde = { workspace = true, features = [
    "derive",
] }
"thiserror" = "2"

[dependencies.reqwest]
version = "0.12"

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[build-dependencies]
cc = "1"

[dev-dependencies]
proptest.workspace = true

[lints]
workspace = true
"#;
    let found = runtime_dependencies(manifest);
    let expected: BTreeSet<String> = ["cc", "jiff", "libc", "reqwest", "serde", "thiserror"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn the_scanner_flags_io_wherever_it_hides_and_ignores_comments_and_strings() {
    let source = r##"//! Never calls `Timestamp::now`: `now` is a parameter.
use std::{collections::BTreeMap, env};
use std::time::Duration;
/* std::fs::read in a block comment */
fn a() -> jiff::Timestamp { jiff::Timestamp::now() }
fn b() { let _ = "std::process::exit(1)"; let _c = '"'; let _ = std::fs::read("x"); }
fn c() { let _ = std::time::Duration::ZERO; } // SystemTime::now() in a comment
fn d<'a>(x: &'a str) -> &'a str { println!("{x}"); x }
struct UserFile; impl UserFile { fn f() { UserFile::open(); } }
fn e() { let _ = TimeZone::get("Europe/Berlin"); }
#[cfg(test)]
mod tests {
    fn zone() { let _ = TimeZone::get("Europe/Berlin"); }
}
fn f() { let _ = r"std::net"; let _ = r#"tokio"#; }
"##;
    let found: Vec<(usize, String)> = scan("x.rs", source)
        .into_iter()
        .map(|v| (v.line, v.what))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "imports std::env (does I/O)".to_owned()),
            (5, "Timestamp::now (reads the clock)".to_owned()),
            (6, "std::fs (touches files)".to_owned()),
            (8, "println! (writes to the console)".to_owned()),
            (
                10,
                "TimeZone::get (looks up a time zone by name)".to_owned()
            ),
        ]
    );
}

/// Names of the `[dependencies]`, `[target.….dependencies]` and `[build-dependencies]` of a
/// manifest, in any of Cargo's spellings. Dev-dependencies are not part of the library.
fn runtime_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut in_dependencies = false;
    // Open brackets of a value that spans lines (`features = [` … `]`).
    let mut depth: i32 = 0;
    for raw in manifest.lines() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if depth == 0 && line.starts_with('[') && !line.starts_with("[[") {
            let header = line.trim_start_matches('[').trim_end_matches(']').trim();
            let parts: Vec<&str> = header.split('.').collect();
            let table = parts.iter().position(|part| {
                matches!(
                    part.trim_matches(['"', '\'']),
                    "dependencies" | "build-dependencies"
                )
            });
            in_dependencies = false;
            if let Some(at) = table {
                match parts.get(at + 1) {
                    // `[dependencies.name]`: the table is the dependency.
                    Some(name) => {
                        found.insert(name.trim_matches(['"', '\'']).to_owned());
                    }
                    None => in_dependencies = true,
                }
            }
            continue;
        }
        if line.starts_with("[[") {
            in_dependencies = false;
            continue;
        }
        if in_dependencies
            && depth == 0
            && let Some((key, _)) = line.split_once('=')
        {
            let name = key.split('.').next().unwrap_or_default();
            let name = name.trim().trim_matches(['"', '\'']);
            if !name.is_empty() {
                found.insert(name.to_owned());
            }
        }
        depth += bracket_balance(line);
    }
    found
}

fn bracket_balance(line: &str) -> i32 {
    line.chars()
        .map(|c| match c {
            '[' | '{' => 1,
            ']' | '}' => -1,
            _ => 0,
        })
        .sum()
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Every violation in one file's text.
fn scan(file: &str, text: &str) -> Vec<Violation> {
    let code = blank_comments_and_literals(text);
    let lines: Vec<&str> = code.lines().collect();
    let in_test = test_lines(&lines);
    let mut violations = Vec::new();
    let mut report = |line: usize, what: String| {
        violations.push(Violation {
            file: file.to_owned(),
            line: line + 1,
            what,
            code: text.lines().nth(line).unwrap_or_default().to_owned(),
        });
    };
    let mut use_statement: Option<(usize, String)> = None;
    for (index, line) in lines.iter().enumerate() {
        let mut rules: Vec<&(&str, &str)> = FORBIDDEN.iter().collect();
        if !in_test[index] {
            rules.extend(FORBIDDEN_OUTSIDE_TESTS);
        }
        if let Some((pattern, why)) = rules.into_iter().find(|(p, _)| contains_at_word(line, p)) {
            report(index, format!("{pattern} ({why})"));
            continue;
        }
        // A `use` tree may span lines; it is judged whole, at the line where it starts.
        let trimmed = line.trim_start();
        if use_statement.is_none()
            && (trimmed.starts_with("use ") || trimmed.starts_with("pub use "))
        {
            use_statement = Some((index, String::new()));
        }
        if let Some((start, tree)) = use_statement.as_mut() {
            tree.push_str(line);
            if line.contains(';') {
                if let Some(module) = forbidden_std_import(tree) {
                    let start = *start;
                    report(start, format!("imports std::{module} (does I/O)"));
                }
                use_statement = None;
            }
        }
    }
    violations
}

/// The first forbidden module a `use std::…` tree names, however it is grouped.
fn forbidden_std_import(tree: &str) -> Option<&'static str> {
    let flat: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let path = flat
        .trim_start_matches("pub")
        .trim_start_matches("use")
        .trim_start_matches("::");
    if !path.starts_with("std::") {
        return None;
    }
    path.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find_map(|segment| FORBIDDEN_STD_MODULES.iter().find(|m| **m == segment))
        .copied()
}

/// `pattern` occurs where an identifier or path starts (not inside a longer name).
fn contains_at_word(line: &str, pattern: &str) -> bool {
    line.match_indices(pattern).any(|(at, _)| {
        !line[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// For each line, whether it lies in an item marked `#[cfg(test)]` (braces counted on code
/// whose comments and literals are already blank).
fn test_lines(lines: &[&str]) -> Vec<bool> {
    let mut in_test = vec![false; lines.len()];
    let mut pending = false;
    let mut depth = 0i32;
    for (index, line) in lines.iter().enumerate() {
        if depth == 0 && line.trim() == "#[cfg(test)]" {
            pending = true;
            in_test[index] = true;
            continue;
        }
        if pending && depth == 0 && line.contains(';') && !line.contains('{') {
            // `#[cfg(test)] mod tests;`: the module lives in a file of its own.
            pending = false;
            in_test[index] = true;
            continue;
        }
        if pending || depth > 0 {
            in_test[index] = true;
            let opened = line.contains('{');
            depth += bracket_balance_braces(line);
            if pending && opened {
                pending = false;
            }
            depth = depth.max(0);
        }
    }
    in_test
}

fn bracket_balance_braces(line: &str) -> i32 {
    line.chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

/// The text with comments and the contents of string and character literals replaced by
/// spaces; line breaks stay, so line numbers do.
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#, …
            let hashes = chars[i + 1..].iter().take_while(|h| **h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('r');
            out.extend(std::iter::repeat_n('#', hashes));
            out.push('"');
            i += 2 + hashes;
            while i < chars.len() {
                let closes = chars[i] == '"'
                    && chars[i + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|h| **h == '#')
                        .count()
                        == hashes;
                if closes {
                    out.push('"');
                    out.extend(std::iter::repeat_n('#', hashes));
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if let Some(&inner) = chars.get(i) {
                    out.push(blank(inner));
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && next == Some('\\') {
            // An escaped character literal: '\n', '\'', '\u{…}'.
            out.push('\'');
            i += 2;
            out.push(' ');
            while i < chars.len() && chars[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push('\'');
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            // A plain character literal: 'x', '"'.
            out.push_str("' '");
            i += 3;
        } else {
            // Code, including lifetimes ('a).
            out.push(c);
            i += 1;
        }
    }
    out
}
