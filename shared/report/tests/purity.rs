//! The report crate is pure like the domain (ARCHITECTURE.md): its runtime dependencies are an
//! allow-list, and its code reaches for no clock, environment, file, network, process, thread
//! or console. A violation names file and line. Comments are skipped (prose may name a call).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

const ALLOWED_DEPENDENCIES: &[&str] = &["domain", "jiff", "serde", "thiserror"];

const FORBIDDEN: &[&str] = &[
    "SystemTime",
    "Instant::now",
    "Timestamp::now",
    "Zoned::now",
    "TimeZone::system",
    "TimeZone::get",
    "tz::db",
    "std::env",
    "std::fs",
    "File::",
    "std::io",
    "std::net",
    "std::process",
    "std::thread",
    "tokio",
    "async ",
    "println!",
    "eprintln!",
    "dbg!",
];

#[test]
fn the_crate_depends_only_on_pure_crates() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let dependencies: Vec<&str> = manifest
        .lines()
        .skip_while(|line| line.trim() != "[dependencies]")
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter_map(|line| line.split(['.', '=', ' ']).next())
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    assert!(!dependencies.is_empty(), "no [dependencies] found");
    for name in dependencies {
        assert!(
            ALLOWED_DEPENDENCIES.contains(&name),
            "shared/report depends on {name}, which is not on the pure allow-list"
        );
    }
}

#[test]
fn the_code_reads_no_clock_and_does_no_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for pattern in FORBIDDEN {
                if code.contains(pattern) {
                    violations.push(format!("{}:{}: {pattern}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        files >= 4,
        "found only {files} source files under {}",
        src.display()
    );
    assert!(violations.is_empty(), "{violations:#?}");
}
