//! The README and the book under `docs/`: short README, one example per face, every example command one the command
//! line accepts, every relative link a file.

use std::path::{Path, PathBuf};

use hoptrace::cli::{parse, Request};
use hoptrace::settings::{Mode, Output, ReportFormat};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every Markdown file under docs/.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                found.push(path);
            }
        }
    }
    let mut found = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut found);
    found.sort();
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The example command lines of a page: `$ …` lines in code blocks, and every line of `sh` blocks.
fn commands(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut block: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            block = if block.is_some() { None } else { Some(info.trim()) };
            continue;
        }
        match block {
            Some(_) if trimmed.starts_with("$ ") => found.push(trimmed[2..].to_owned()),
            Some("sh" | "console") if !trimmed.is_empty() && !trimmed.starts_with('#') => {
                found.push(trimmed.to_owned())
            }
            _ => {}
        }
    }
    found
}

/// The hoptrace command lines in a shell line, program name first: `hoptrace …`, `sudo hoptrace …`, and the
/// arguments of `scripts/run.sh` and `scripts/demo.sh`, which go to hoptrace.
fn hoptrace_runs(line: &str) -> Vec<Vec<String>> {
    // A comment starts with a `#` after white space, outside quotes.
    let (mut quote, mut end, mut previous) = (None, line.len(), ' ');
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => {
                end = at;
                break;
            }
            _ => {}
        }
        previous = c;
    }
    let words = shlex::split(&line[..end]).unwrap_or_else(|| panic!("not a shell line: {line}"));
    let mut runs = Vec::new();
    for segment in words.split(|word| word == "|" || word == "&&" || word == ";") {
        let mut words: Vec<&str> = segment.iter().map(String::as_str).collect();
        if words.first() == Some(&"sudo") {
            words.remove(0);
        }
        // Redirections end the arguments.
        if let Some(at) = words.iter().position(|word| word.starts_with(['<', '>']) || word.starts_with("2>")) {
            words.truncate(at);
        }
        match words.first() {
            Some(&"hoptrace") => runs.push(words.iter().map(|word| word.to_string()).collect()),
            Some(&("scripts/run.sh" | "scripts/demo.sh")) => {
                runs.push(std::iter::once("hoptrace").chain(words[1..].iter().copied()).map(Into::into).collect())
            }
            _ => {}
        }
    }
    runs
}

/// The face of hoptrace a command line shows.
fn face(request: &Request) -> Option<&'static str> {
    Some(match request {
        Request::Monitor(_) => "monitor",
        Request::Bulk(_) => "bulk",
        Request::Print(_) => return None,
        Request::Trace(settings) if settings.mode == Mode::Tracepath => "tracepath",
        Request::Trace(settings) if settings.probing.mda => "mda",
        Request::Trace(settings) => match settings.output {
            Output::Text => "traceroute",
            Output::Report(ReportFormat::Text) => "report",
            Output::Live => "live",
            Output::Ripe | Output::Report(ReportFormat::Json) => "json",
            Output::Events => "events",
            _ => return None,
        },
    })
}

#[test]
fn every_example_command_is_accepted_and_the_readme_shows_every_face() {
    let mut readme_faces = Vec::new();
    let mut checked = 0;
    for page in pages() {
        for line in commands(&read(&page)) {
            for run in hoptrace_runs(&line) {
                let request = parse(run.iter().map(Into::into))
                    .unwrap_or_else(|error| panic!("{}: `{line}` is refused: {error}", page.display()));
                checked += 1;
                if page.ends_with("README.md") {
                    readme_faces.extend(face(&request));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} example commands found");
    for face in ["traceroute", "tracepath", "report", "live", "mda", "json", "events", "monitor", "bulk"] {
        assert!(readme_faces.contains(&face), "README has no example of {face} (it has {readme_faces:?})");
    }
}

#[test]
fn readme_is_short_and_the_book_holds_the_rest() {
    let readme = read(&root().join("README.md"));
    assert!(readme.lines().count() <= 250, "README.md has {} lines", readme.lines().count());
    for command in ["scripts/run.sh", "scripts/test.sh", "docs/src/SUMMARY.md"] {
        assert!(readme.contains(command), "README.md does not mention {command}");
    }
    // Every page of the book is in its table of contents, and the table names only pages that exist.
    let summary = read(&root().join("docs/src/SUMMARY.md"));
    for page in pages().iter().filter(|page| page.starts_with(root().join("docs/src"))) {
        let relative = page.strip_prefix(root().join("docs/src")).unwrap().to_str().unwrap().to_owned();
        assert!(relative == "SUMMARY.md" || summary.contains(&format!("]({relative})")), "SUMMARY.md lacks {relative}");
    }
    for page in ["docs/book.toml", "docs/ARCHITECTURE.md", "docs/BENCHMARKS.md"] {
        assert!(root().join(page).is_file(), "no {page}");
    }
}

/// The anchors of a page's headings, as GitHub and mdBook make them (an included page's too).
fn anchors(text: &str) -> Vec<String> {
    let mut text = text.to_owned();
    if let Some(included) = text.strip_prefix("{{#include ../").and_then(|rest| rest.split_once("}}")) {
        text = read(&root().join("docs").join(included.0));
    }
    text.lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| {
            let heading = heading.trim_start_matches('#').trim().to_lowercase();
            heading
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_relative_link_resolves_to_a_file() {
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        // Inline links `](target)` and reference definitions `[name]: target`.
        let inline = text.split("](").skip(1).filter_map(|rest| rest.split_once(')').map(|(target, _)| target));
        let defined = text.lines().filter_map(|line| {
            let line = line.trim_start();
            line.starts_with('[').then(|| line.split_once("]: ").map(|(_, target)| target.trim()))?
        });
        for target in inline.chain(defined) {
            let target = target.split_whitespace().next().unwrap_or_default();
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = page.parent().unwrap().join(path);
            assert!(resolved.exists(), "{}: link to {target}, which is no file", page.display());
            if let Some((_, anchor)) = target.split_once('#').filter(|_| path.ends_with(".md")) {
                let headings = anchors(&read(&resolved));
                assert!(headings.contains(&anchor.to_owned()), "{}: no heading for {target}", page.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} relative links found");
}
