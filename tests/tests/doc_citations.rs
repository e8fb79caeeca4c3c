//! Every document the repository cites is in the repository.
//!
//! The rules rosterdb follows are stated in `docs/reference/` (its index is
//! `docs/reference/README.md`). This test walks every text file of the
//! repository and fails, naming `file:line` and what to do, on:
//!
//! - (a) a citation of the old product specification, which is not in the
//!   repository: the word written in capitals, its `.md` file name, or a
//!   path into the `shared` directory beside the repository;
//! - (b) a relative Markdown link (`[text](path)`, `[text](path#anchor)`)
//!   in a `.md` file whose target does not exist;
//! - (c) a mention of a Markdown file under `docs/` (in any text file: code
//!   comments, docstrings, scripts) that does not exist;
//! - (d) a link with an `#anchor` into a Markdown file of the repository
//!   whose anchor matches none of the target's headings (GitHub's rule:
//!   lowercase, spaces to `-`, punctuation other than `-` and `_` dropped,
//!   a repeated heading gets `-1`, `-2`, …);
//! - (e) a citation of a section of the reference, written as the file, a
//!   comma and the heading (`docs/reference/queries.md, Parameter form`, the
//!   heading quoted when it holds a comma), whose file has no such heading.
//!
//! Build directories, virtual environments, tool caches, fuzzing corpora
//! and binary files are skipped.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The old specification's name, built so that this file does not cite it.
const SPEC_WORD: &str = concat!("SP", "EC");
/// The directory beside the repository where the specification was kept.
const SHARED_DIR: &str = concat!("../", "shared/");

/// Directory names skipped wherever they are.
const SKIPPED_NAMES: [&str; 9] = [
    ".git",
    ".venv",
    "node_modules",
    ".tools",
    "__pycache__",
    ".hypothesis",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
];

/// Directories skipped by their path from the repository root.
const SKIPPED_PATHS: [&str; 5] = [
    "fuzz/corpus",
    "fuzz/artifacts",
    "fuzz/target",
    "bindings/generated",
    "bindings/kotlin/build",
];

/// One problem: where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Problem {
    file: String,
    line: usize,
    message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The repository root: the parent of this crate's directory.
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the conformance crate lives inside the repository")
        .to_path_buf()
}

/// Every text file under `root`, as (path from the root with `/`, text).
fn text_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {dir:?}: {e}"));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("reading {dir:?}: {e}"));
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = relative_name(root, &path);
            let kind = entry
                .file_type()
                .unwrap_or_else(|e| panic!("{path:?}: {e}"));
            if kind.is_dir() {
                let skipped = name.starts_with("target")
                    || SKIPPED_NAMES.contains(&name.as_str())
                    || SKIPPED_PATHS.contains(&relative.as_str());
                if !skipped {
                    pending.push(path);
                }
            } else if kind.is_file() {
                let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {path:?}: {e}"));
                if bytes.contains(&0) {
                    continue;
                }
                if let Ok(text) = String::from_utf8(bytes) {
                    files.push((relative, text));
                }
            }
        }
    }
    files.sort();
    files
}

/// `path` relative to `root`, with `/` between its parts.
fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `c` can be part of an identifier (what a regex `\b` separates).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The byte offsets where `word` stands as a whole word in `line`.
fn whole_word_at(line: &str, word: &str) -> Vec<usize> {
    line.match_indices(word)
        .filter(|&(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + word.len()..].chars().next();
            !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
        })
        .map(|(at, _)| at)
        .collect()
}

/// (a): citations of the specification that is not in the repository.
fn specification_citations(file: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let cited = !whole_word_at(line, SPEC_WORD).is_empty()
            || line.contains(&format!("{SPEC_WORD}.md"))
            || line.contains(SHARED_DIR);
        if cited {
            problems.push(Problem {
                file: file.to_owned(),
                line: index + 1,
                message: format!(
                    "cites the old specification ({SPEC_WORD}, {SPEC_WORD}.md or {SHARED_DIR}), \
                     which is not in the repository: cite the file and heading of \
                     docs/reference/ that states the rule (the index is \
                     docs/reference/README.md)"
                ),
            });
        }
    }
    problems
}

/// The lines of a Markdown text outside fenced code blocks, numbered from 1.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push((index + 1, line));
        }
    }
    lines
}

/// The targets of the inline links and images of a Markdown line:
/// `[text](target)` and `[text](target "title")`, target without its title.
fn link_targets(line: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        let inside = after[..end].trim();
        let target = inside.split_whitespace().next().unwrap_or("");
        let target = target.trim_start_matches('<').trim_end_matches('>');
        targets.push(target);
        rest = &after[end..];
    }
    targets
}

/// Whether a link target leaves the repository (a URL or an e-mail).
fn is_external(target: &str) -> bool {
    let scheme = target.split_once(':').map(|(s, _)| s);
    scheme.is_some_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    })
}

/// `base` joined with `relative`, `.` and `..` resolved without touching the
/// disk; `None` when it climbs out of the repository.
fn resolve(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<String> = base
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Some(parts.join("/"))
}

/// GitHub's anchor for a heading: lowercase, punctuation other than `-` and
/// `_` dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown text's headings, repeated ones numbered as
/// GitHub numbers them.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    for heading in headings(text) {
        let base = slug(&heading);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.insert(if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// (b) and (d): relative links of one Markdown file, checked against the
/// files of the repository (`texts`: path → text) and the disk under `root`.
fn markdown_links(
    root: &Path,
    file: &str,
    text: &str,
    texts: &BTreeMap<&str, &str>,
) -> Vec<Problem> {
    let directory = file.rsplit_once('/').map_or("", |(d, _)| d);
    let mut problems = Vec::new();
    for (line, content) in prose_lines(text) {
        for target in link_targets(content) {
            if target.is_empty() || is_external(target) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target, None),
            };
            let resolved = if path.is_empty() {
                Some(file.to_owned())
            } else if let Some(from_root) = path.strip_prefix('/') {
                resolve("", from_root)
            } else {
                resolve(directory, path)
            };
            let Some(resolved) = resolved else {
                problems.push(Problem {
                    file: file.to_owned(),
                    line,
                    message: format!(
                        "the link `{target}` leads out of the repository: link a file of the \
                         repository, or a URL"
                    ),
                });
                continue;
            };
            if !root.join(&resolved).exists() {
                problems.push(Problem {
                    file: file.to_owned(),
                    line,
                    message: format!(
                        "the link `{target}` points at `{resolved}`, which does not exist: \
                         fix the path (relative to this file's directory) or remove the link"
                    ),
                });
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if anchor.is_empty() || !resolved.ends_with(".md") {
                continue;
            }
            let Some(target_text) = texts.get(resolved.as_str()) else {
                continue;
            };
            if !anchors(target_text).contains(anchor) {
                problems.push(Problem {
                    file: file.to_owned(),
                    line,
                    message: format!(
                        "the link `{target}` names the anchor `#{anchor}`, which no heading of \
                         `{resolved}` has: use the heading's anchor (lowercase, spaces to `-`, \
                         punctuation other than `-` and `_` dropped), or rename the heading"
                    ),
                });
            }
        }
    }
    problems
}

/// Whether `c` can be part of a file path as this repository writes them.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._/-".contains(c)
}

/// (c): mentions of a Markdown file under `docs/` that does not exist.
fn docs_mentions(root: &Path, file: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut reported = BTreeSet::new();
        for (at, _) in line.match_indices("docs/") {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| is_path_char(c) && c != '/' && c != '.') {
                continue;
            }
            // In a Markdown link the (b) check reads the path from the file's
            // own directory; it is not reported twice.
            let start = line[..at].trim_end_matches(['.', '/']).len();
            if file.ends_with(".md") && line[..start].ends_with("](") {
                continue;
            }
            let token: String = line[at..]
                .chars()
                .take_while(|&c| is_path_char(c))
                .collect();
            let token = token.trim_end_matches(['.', '/', '-', '_']);
            if !token.ends_with(".md") || !reported.insert(token.to_owned()) {
                continue;
            }
            if !root.join(token).is_file() {
                problems.push(Problem {
                    file: file.to_owned(),
                    line: index + 1,
                    message: format!(
                        "mentions `{token}`, which does not exist: name the file that states \
                         it (the reference is docs/reference/, its index \
                         docs/reference/README.md)"
                    ),
                });
            }
        }
    }
    problems
}

/// The headings of a Markdown text, without their `#`s and backticks.
fn headings(text: &str) -> Vec<String> {
    prose_lines(text)
        .into_iter()
        .filter_map(|(_, line)| {
            let hashes = line.chars().take_while(|&c| c == '#').count();
            let title = line[hashes..].strip_prefix(' ')?;
            (1..=6)
                .contains(&hashes)
                .then(|| title.trim().trim_end_matches('#').trim().replace('`', ""))
        })
        .collect()
}

/// (e): citations of a section of the reference (the path of a page under
/// `docs/reference/`, a comma, and `Heading` or `"Heading"`) that name no
/// heading of that page. The text after
/// the comma must start with a heading; when it ends the line (the comment
/// wraps), it must start one. A comma followed by anything but a capital
/// letter or a quote is prose, not a citation.
fn reference_sections(file: &str, text: &str, pages: &BTreeMap<&str, Vec<String>>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices("docs/reference/") {
            let token: String = line[at..]
                .chars()
                .take_while(|&c| is_path_char(c))
                .collect();
            let Some(page) = token.split_once(".md").map(|(p, _)| format!("{p}.md")) else {
                continue;
            };
            let Some(after) = line[at + page.len()..].strip_prefix(", ") else {
                continue;
            };
            let quoted = after.starts_with('"');
            let rest = after.trim_start_matches('"').replace('`', "");
            if !(quoted || rest.starts_with(|c: char| c.is_uppercase())) {
                continue;
            }
            let Some(page_headings) = pages.get(page.as_str()) else {
                continue; // a missing file is (c)'s to report
            };
            let rest = rest.trim_end();
            let known = page_headings
                .iter()
                .any(|h| rest.starts_with(h.as_str()) || h.starts_with(rest));
            if !known {
                problems.push(Problem {
                    file: file.to_owned(),
                    line: index + 1,
                    message: format!(
                        "cites the section `{}` of `{page}`, which has no such heading: \
                         name one of its headings as written (quoted when it holds a comma)",
                        rest.chars().take(40).collect::<String>()
                    ),
                });
            }
        }
    }
    problems
}

/// Every problem of the repository under `root`, sorted.
fn problems_under(root: &Path) -> Vec<Problem> {
    let files = text_files(root);
    let texts: BTreeMap<&str, &str> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect();
    // The headings of each reference page, read once for every citation.
    let pages: BTreeMap<&str, Vec<String>> = texts
        .iter()
        .filter(|(path, _)| path.starts_with("docs/reference/"))
        .map(|(&path, &text)| (path, headings(text)))
        .collect();
    let mut problems = Vec::new();
    for (file, text) in &files {
        problems.extend(specification_citations(file, text));
        problems.extend(docs_mentions(root, file, text));
        problems.extend(reference_sections(file, text, &pages));
        if file.ends_with(".md") {
            problems.extend(markdown_links(root, file, text, &texts));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

#[test]
fn every_cited_document_is_in_the_repository() {
    let problems = problems_under(&repository_root());
    assert!(
        problems.is_empty(),
        "{} citation problem(s):\n{}",
        problems.len(),
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// The checks themselves, on a small repository made for each test.

/// A repository in a temporary directory holding `files` (path, text).
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, text).unwrap();
    }
    dir
}

/// The problems of a made repository, as `file:line` strings.
fn places(files: &[(&str, &str)]) -> Vec<String> {
    let dir = repository(files);
    problems_under(dir.path())
        .into_iter()
        .map(|p| format!("{}:{}", p.file, p.line))
        .collect()
}

const REFERENCE: &str = "# Queries\n\n## Parameter form\n\n## Results, paging and planning\n\n\
                         ## Notes\n\n## Notes\n\n```\n# not a heading\n```\n";

#[test]
fn a_correct_repository_has_no_problem() {
    let readme = "See [queries](docs/reference/queries.md#parameter-form), \
                  [paging](docs/reference/queries.md#results-paging-and-planning), \
                  [notes](docs/reference/queries.md#notes-1), [web](https://example.com/x.md), \
                  [mail](mailto:a@b.c) and [top](#readme).\n\n# Readme\n";
    let code = "// See docs/reference/queries.md, Parameter form.\nlet spec = 1; // FIELD_SPEC\n";
    assert_eq!(
        places(&[
            ("README.md", readme),
            ("docs/reference/queries.md", REFERENCE),
            ("core/src/lib.rs", code),
        ]),
        Vec::<String>::new()
    );
}

#[test]
fn citations_of_the_old_specification_are_found() {
    let code = format!(
        "ok\n// as {SPEC_WORD} §3.1 says\n// in {SPEC_WORD}.md\n// see {SHARED_DIR}vectors\n"
    );
    assert_eq!(
        places(&[("core/src/lib.rs", &code)]),
        [
            "core/src/lib.rs:2",
            "core/src/lib.rs:3",
            "core/src/lib.rs:4"
        ]
    );
}

/// The `docs` directory's name, kept apart from the paths the made
/// repositories mention so that this file mentions no missing file itself.
const DOCS: &str = "docs";

#[test]
fn links_to_missing_files_are_found() {
    let readme = "[a](guide/missing.md)\n\n```\n[in code](nowhere.md)\n```\n[b](../outside.md)\n";
    assert_eq!(
        places(&[("README.md", readme)]),
        ["README.md:1", "README.md:6"]
    );
}

#[test]
fn mentions_of_missing_docs_files_are_found() {
    let code = format!(
        "// docs/reference/queries.md is here\n// {DOCS}/reference/gone.md is not.\n\
         // so is ../{DOCS}/nothing.md, and not docs/reference/\n"
    );
    assert_eq!(
        places(&[
            ("docs/reference/queries.md", REFERENCE),
            ("cli/src/main.rs", &code)
        ]),
        ["cli/src/main.rs:2", "cli/src/main.rs:3"]
    );
}

#[test]
fn anchors_that_match_no_heading_are_found() {
    let guide = "[a](../docs/reference/queries.md#parameter-form)\n\
                 [b](../docs/reference/queries.md#parameter_form)\n\
                 [c](../docs/reference/queries.md#not-a-heading)\n\
                 [d](../docs/reference/queries.md#notes-2)\n";
    assert_eq!(
        places(&[
            ("docs/reference/queries.md", REFERENCE),
            ("guide/guide.md", guide)
        ]),
        ["guide/guide.md:2", "guide/guide.md:3", "guide/guide.md:4"]
    );
}

#[test]
fn sections_the_reference_lacks_are_found() {
    let code = "// REF, Parameter form: ok\n\
                // REF, \"Results, paging and planning\": ok\n\
                // as REF, Results, paging and\n\
                // planning says (wrapped): ok\n\
                // REF, which is prose: ok\n\
                // REF, Parameter forms: ok, it starts with one\n\
                // REF, Expression form: no such heading\n\
                // REF, \"Paging\": no such heading\n\
                // REF, Results, sorting\n"
        // Written with a stand-in, so that this file cites nothing itself.
        .replace("REF", &format!("{DOCS}/reference/queries.md"));
    assert_eq!(
        places(&[
            ("docs/reference/queries.md", REFERENCE),
            ("core/src/query.rs", &code)
        ]),
        [
            "core/src/query.rs:7",
            "core/src/query.rs:8",
            "core/src/query.rs:9"
        ]
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Results, paging and planning"),
        "results-paging-and-planning"
    );
    assert_eq!(slug("Second factor (TOTP)"), "second-factor-totp");
    assert_eq!(
        slug("Checking a password (`verify_password`, `login`)"),
        "checking-a-password-verify_password-login"
    );
    assert_eq!(
        slug("Imported hashes (`passwordHash`)"),
        "imported-hashes-passwordhash"
    );
}
