//! Task rubrics (docs/method.md §2): the hand-written primary rubrics of a domain, kept as JSON
//! data files so that users add domains without code changes.
//!
//! The five built-in domains are compiled in from the repository's `rubrics/` folder, so every
//! wheel and sdist carries them. A [`RubricSource`] looks a domain up in user directories first
//! (an explicit list, then `PATARM_RUBRICS_PATH`), then among the built-ins. The file format is
//! documented in `rubrics/README.md`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Environment variable: rubric directories searched before the built-ins, separated like
/// `PATH` (`:` on Unix, `;` on Windows).
pub const RUBRICS_PATH_ENV: &str = "PATARM_RUBRICS_PATH";

/// The domain of a row that names none: its task and rubrics are the general chat ones.
pub const DEFAULT_DOMAIN: &str = "chat";

/// The highest score a judge can give (docs/method.md §3: verdicts lie in 0..=10).
pub const MAX_SCORE: u8 = 10;

/// How a domain can be added, appended to unknown-domain errors.
const HOW_TO_ADD: &str =
    "To add a domain, write a rubric file <domain>.json (format: rubrics/README.md) \
and pass its path, or put it in a directory given by rubrics_dir= or the PATARM_RUBRICS_PATH \
environment variable";

/// Why rubrics could not be found or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RubricError {
    #[error("unknown rubric domain {domain:?}; known domains: {known}. {HOW_TO_ADD}", known = .known.join(", "))]
    UnknownDomain { domain: String, known: Vec<String> },
    #[error("cannot read rubric file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("invalid rubric file {origin}: {reason} (format: rubrics/README.md)")]
    Invalid { origin: String, reason: String },
    #[error("rubric directory {path} is not a readable directory: {reason}")]
    BadDirectory { path: String, reason: String },
}

/// A score band of one criterion, e.g. `8-10: complete, accurate, ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreBand {
    pub min: u8,
    pub max: u8,
    pub description: String,
}

impl ScoreBand {
    /// `"8-10"`, or `"0"` for a single score.
    pub fn label(&self) -> String {
        if self.min == self.max {
            self.min.to_string()
        } else {
            format!("{}-{}", self.min, self.max)
        }
    }
}

/// One primary rubric: what it checks and its score bands (highest first, as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub name: String,
    pub description: String,
    pub bands: Vec<ScoreBand>,
}

/// The primary rubrics of one domain.
#[derive(Debug, Clone)]
pub struct Rubrics {
    /// Canonical (normalised) domain name, e.g. `instruction_following`.
    pub domain: String,
    /// Other names that resolve to this domain, as written in the file.
    pub aliases: Vec<String>,
    /// The task description for the `<task>` block; `None` means "derive from the domain".
    pub task: Option<String>,
    pub criteria: Vec<Criterion>,
    /// Where the rubrics came from: a file path, or `built-in <file>`.
    pub source: String,
    /// The rendered `<rubrics>` block, computed when the rubrics are built: a lazy render
    /// behind a one-time lock, copied half-done into a process forked meanwhile, would leave
    /// the child waiting on it forever.
    rendered: String,
}

// Equal when the data is equal; the render cache is not part of the value.
impl PartialEq for Rubrics {
    fn eq(&self, other: &Self) -> bool {
        self.domain == other.domain
            && self.aliases == other.aliases
            && self.task == other.task
            && self.criteria == other.criteria
            && self.source == other.source
    }
}

impl Eq for Rubrics {}

// The on-disk format. Unknown fields are rejected so that a typo ("critera") is an error, not
// a silently empty rubric.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricFile {
    domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    criteria: Vec<CriterionFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionFile {
    name: String,
    description: String,
    bands: Vec<BandFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BandFile {
    scores: String,
    description: String,
}

/// Lower case, surrounding space removed, inner spaces and hyphens turned into `_`:
/// `"Instruction-Following"` and `"instruction following"` both give `instruction_following`.
pub fn normalize_domain(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c == '-' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// A usable (normalised) domain name: letters, digits and `_`, not empty.
pub fn is_domain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Parses `"8-10"`, `"8 - 10"` or `"0"` into an inclusive band within 0..=MAX_SCORE.
fn parse_band_scores(text: &str) -> Result<(u8, u8), String> {
    let bad = || {
        format!("score band {text:?} must be \"low-high\" or a single score, whole numbers from 0 to {MAX_SCORE}")
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<u8>()
            .ok()
            .filter(|&v| v <= MAX_SCORE)
            .ok_or_else(bad)
    };
    let (min, max) = match text.split_once('-') {
        Some((low, high)) => (parse(low)?, parse(high)?),
        None => {
            let v = parse(text)?;
            (v, v)
        }
    };
    if min > max {
        return Err(format!(
            "score band {text:?} has its low end above its high end"
        ));
    }
    Ok((min, max))
}

fn non_empty(value: &str, what: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err(format!("{what} is empty"))
    } else {
        Ok(value.to_string())
    }
}

impl Rubrics {
    /// Parses and validates rubric JSON; `origin` names the file in error messages.
    pub fn from_json(text: &str, origin: &str) -> Result<Rubrics, RubricError> {
        let invalid = |reason: String| RubricError::Invalid {
            origin: origin.to_string(),
            reason,
        };
        let file: RubricFile = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        Self::from_file_data(file, origin).map_err(invalid)
    }

    /// Reads and validates a rubric file.
    pub fn from_path(path: &Path) -> Result<Rubrics, RubricError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RubricError::Unreadable {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text, &shown)
    }

    fn from_file_data(file: RubricFile, origin: &str) -> Result<Rubrics, String> {
        let domain = normalize_domain(&file.domain);
        if !is_domain_name(&domain) {
            return Err(format!(
                "domain {:?} must be a name made of letters, digits, '_', '-' or spaces",
                file.domain
            ));
        }
        let mut aliases = Vec::with_capacity(file.aliases.len());
        for alias in file.aliases {
            if !is_domain_name(&normalize_domain(&alias)) {
                return Err(format!(
                    "alias {alias:?} must be a name made of letters, digits, '_', '-' or spaces"
                ));
            }
            aliases.push(alias.trim().to_string());
        }
        let task = match file.task {
            Some(task) => Some(non_empty(&task, "task")?),
            None => None,
        };
        if file.criteria.is_empty() {
            return Err("criteria is empty: give at least one criterion".into());
        }
        let mut criteria: Vec<Criterion> = Vec::with_capacity(file.criteria.len());
        for raw in file.criteria {
            let name = non_empty(&raw.name, "a criterion name")?;
            if criteria.iter().any(|c| c.name.eq_ignore_ascii_case(&name)) {
                return Err(format!("criterion {name:?} appears twice"));
            }
            let description = non_empty(
                &raw.description,
                &format!("the description of criterion {name:?}"),
            )?;
            if raw.bands.is_empty() {
                return Err(format!("criterion {name:?} has no score bands"));
            }
            let mut bands: Vec<ScoreBand> = Vec::with_capacity(raw.bands.len());
            for band in raw.bands {
                let (min, max) = parse_band_scores(&band.scores)
                    .map_err(|e| format!("criterion {name:?}: {e}"))?;
                if let Some(other) = bands.iter().find(|b| min <= b.max && b.min <= max) {
                    return Err(format!(
                        "criterion {name:?}: score bands {} and {} overlap",
                        other.label(),
                        band.scores.trim()
                    ));
                }
                let description = non_empty(
                    &band.description,
                    &format!(
                        "criterion {name:?}: the description of band {}",
                        band.scores
                    ),
                )?;
                bands.push(ScoreBand {
                    min,
                    max,
                    description,
                });
            }
            criteria.push(Criterion {
                name,
                description,
                bands,
            });
        }
        let mut rubrics = Rubrics {
            domain,
            aliases,
            task,
            criteria,
            source: origin.to_string(),
            rendered: String::new(),
        };
        rubrics.rendered = rubrics.render_uncached();
        Ok(rubrics)
    }

    /// The rubrics in the file format (pretty JSON): a starting point for a user's own domain.
    pub fn to_json(&self) -> String {
        let file = RubricFile {
            domain: self.domain.clone(),
            aliases: self.aliases.clone(),
            task: self.task.clone(),
            criteria: self
                .criteria
                .iter()
                .map(|c| CriterionFile {
                    name: c.name.clone(),
                    description: c.description.clone(),
                    bands: c
                        .bands
                        .iter()
                        .map(|b| BandFile {
                            scores: b.label(),
                            description: b.description.clone(),
                        })
                        .collect(),
                })
                .collect(),
        };
        // Serialising plain strings and vectors cannot fail; fall back to an empty object anyway.
        serde_json::to_string_pretty(&file).unwrap_or_else(|_| "{}".to_string())
    }

    /// True when `name` (any spelling) is this domain or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = normalize_domain(name);
        self.domain == name || self.aliases.iter().any(|a| normalize_domain(a) == name)
    }

    /// The task description for the `<task>` block: the file's, else one derived from the domain.
    pub fn task_description(&self) -> String {
        match &self.task {
            Some(task) => task.clone(),
            None => format!(
                "Judge the quality of a response to a prompt from the {} domain.",
                self.domain.replace('_', " ")
            ),
        }
    }

    /// The text of the `<rubrics>` block: numbered criteria, each with its score bands.
    pub fn render(&self) -> &str {
        &self.rendered
    }

    fn render_uncached(&self) -> String {
        let mut out = String::new();
        for (i, criterion) in self.criteria.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!(
                "{}. {}: {}\n",
                i + 1,
                criterion.name,
                criterion.description
            ));
            out.push_str("   Score bands:\n");
            for band in &criterion.bands {
                out.push_str(&format!("   - {}: {}\n", band.label(), band.description));
            }
        }
        // No trailing newline: the template decides the layout around the block.
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

/// The built-in rubric files, compiled in so that every build carries them.
const BUILTIN_FILES: [(&str, &str); 5] = [
    ("chat.json", include_str!("../rubrics/chat.json")),
    ("math.json", include_str!("../rubrics/math.json")),
    ("code.json", include_str!("../rubrics/code.json")),
    ("safety.json", include_str!("../rubrics/safety.json")),
    (
        "instruction_following.json",
        include_str!("../rubrics/instruction_following.json"),
    ),
];

/// The built-in domains, parsed once. An error here means a broken built-in file (the tests
/// below guard against it); it is reported, never a panic.
pub fn builtin_rubrics() -> Result<&'static [Arc<Rubrics>], RubricError> {
    static BUILTINS: OnceLock<Result<Vec<Arc<Rubrics>>, RubricError>> = OnceLock::new();
    BUILTINS
        .get_or_init(|| {
            BUILTIN_FILES
                .iter()
                .map(|(name, text)| {
                    Rubrics::from_json(text, &format!("built-in {name}")).map(Arc::new)
                })
                .collect()
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// (modification time, size) of a rubric file when it was parsed.
type Stamp = (Option<std::time::SystemTime>, u64);
type CachedFiles = HashMap<PathBuf, (Stamp, Arc<Rubrics>)>;
type RubricCache = Mutex<CachedFiles>;

/// Parsed rubric files by path.
fn rubric_cache() -> &'static RubricCache {
    static CACHE: OnceLock<RubricCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The cache, unless another thread holds it. Never waits: after a `fork()` the lock may be
/// held by a thread of the parent that does not exist in the child, and a busy cache only
/// costs one more parse. A poisoned lock only means a panic elsewhere; the map is still valid.
fn try_cache() -> Option<std::sync::MutexGuard<'static, CachedFiles>> {
    match rubric_cache().try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// Reads a rubric file, reusing the parsed rubrics while the file's size and modification time
/// are unchanged: per-row prompt builds with user directories then cost a `stat`, not a parse.
fn load_cached(path: &Path) -> Result<Arc<Rubrics>, RubricError> {
    let stamp: Option<Stamp> = std::fs::metadata(path)
        .ok()
        .map(|m| (m.modified().ok(), m.len()))
        .filter(|stamp| stamp.0.is_some());
    let Some(stamp) = stamp else {
        return Rubrics::from_path(path).map(Arc::new);
    };
    let cached = try_cache().and_then(|cache| cache.get(path).cloned());
    if let Some((seen, rubrics)) = cached {
        if seen == stamp {
            return Ok(rubrics);
        }
    }
    let rubrics = Arc::new(Rubrics::from_path(path)?);
    if let Some(mut cache) = try_cache() {
        cache.insert(path.to_path_buf(), (stamp, Arc::clone(&rubrics)));
    }
    Ok(rubrics)
}

/// Initialises, on this thread, what prompt building would initialise lazily (the built-in
/// rubrics and the file cache, each behind a one-time lock). Call it before other threads
/// exist: a fork while another thread runs a one-time initialisation would leave the child
/// waiting on it forever.
pub fn warm_up() {
    let _ = builtin_rubrics();
    let _ = rubric_cache();
}

/// Where domains are looked up: user directories in priority order, then the built-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RubricSource {
    dirs: Vec<PathBuf>,
}

impl RubricSource {
    /// Built-ins only.
    pub fn builtin_only() -> Self {
        RubricSource { dirs: Vec::new() }
    }

    /// `explicit` directories first, then those of `PATARM_RUBRICS_PATH`, then the built-ins.
    pub fn new(explicit: Vec<PathBuf>) -> Self {
        let mut dirs = explicit;
        if let Some(value) = std::env::var_os(RUBRICS_PATH_ENV) {
            dirs.extend(std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()));
        }
        RubricSource { dirs }
    }

    /// Exactly these directories, then the built-ins (no environment).
    pub fn with_dirs(dirs: Vec<PathBuf>) -> Self {
        RubricSource { dirs }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Resolves a domain name (any spelling, or an alias) or the path of a rubric file.
    ///
    /// A string ending in `.json`, or naming an existing file and not a bare name, is a path. In each directory a
    /// file `<domain>.json` wins; otherwise the directory's `*.json` files are read in name order
    /// and the first whose domain or aliases match is used.
    pub fn resolve(&self, domain_or_path: &str) -> Result<Arc<Rubrics>, RubricError> {
        let as_path = Path::new(domain_or_path);
        let name = normalize_domain(domain_or_path);
        // A bare name is always a domain, even if a file of that name sits in the working directory.
        let is_json = domain_or_path
            .trim_end()
            .to_ascii_lowercase()
            .ends_with(".json");
        if is_json || (!is_domain_name(&name) && as_path.is_file()) {
            return load_cached(as_path);
        }
        if is_domain_name(&name) {
            for dir in &self.dirs {
                if let Some(found) = Self::find_in_dir(dir, &name)? {
                    return Ok(found);
                }
            }
            if let Some(found) = builtin_rubrics()?.iter().find(|r| r.answers_to(&name)) {
                return Ok(Arc::clone(found));
            }
        }
        let known = self.domains().or_else(|_| Self::builtin_only().domains())?;
        Err(RubricError::UnknownDomain {
            domain: domain_or_path.to_string(),
            known,
        })
    }

    fn find_in_dir(dir: &Path, name: &str) -> Result<Option<Arc<Rubrics>>, RubricError> {
        let direct = dir.join(format!("{name}.json"));
        if direct.is_file() {
            let rubrics = load_cached(&direct)?;
            if rubrics.answers_to(name) {
                return Ok(Some(rubrics));
            }
        }
        for path in Self::rubric_files(dir)? {
            if path == direct {
                continue;
            }
            let rubrics = load_cached(&path)?;
            if rubrics.answers_to(name) {
                return Ok(Some(rubrics));
            }
        }
        Ok(None)
    }

    /// The `*.json` files of a rubric directory, in name order.
    fn rubric_files(dir: &Path) -> Result<Vec<PathBuf>, RubricError> {
        let bad = |e: std::io::Error| RubricError::BadDirectory {
            path: dir.display().to_string(),
            reason: e.to_string(),
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(bad)? {
            let path = entry.map_err(bad)?.path();
            let is_json = path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
            if is_json && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// Every known domain (canonical names, sorted): user directories and built-ins.
    pub fn domains(&self) -> Result<Vec<String>, RubricError> {
        let mut names: Vec<String> = builtin_rubrics()?
            .iter()
            .map(|r| r.domain.clone())
            .collect();
        for dir in &self.dirs {
            for path in Self::rubric_files(dir)? {
                names.push(load_cached(&path)?.domain.clone());
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("patarm-rubrics-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const LEGAL: &str = r#"{"domain": "legal", "aliases": ["law"], "task": "Judge legal advice.",
        "criteria": [{"name": "Accuracy", "description": "states the law correctly.",
        "bands": [{"scores": "6-10", "description": "accurate"}, {"scores": "0-5", "description": "wrong"}]}]}"#;

    #[test]
    fn builtins_parse_and_cover_the_five_domains() {
        let domains: Vec<&str> = builtin_rubrics()
            .unwrap()
            .iter()
            .map(|r| r.domain.as_str())
            .collect();
        assert_eq!(
            domains,
            ["chat", "math", "code", "safety", "instruction_following"]
        );
    }

    #[test]
    fn builtin_bands_cover_zero_to_ten_without_gaps() {
        for rubrics in builtin_rubrics().unwrap() {
            for criterion in &rubrics.criteria {
                let mut covered = [false; 11];
                for band in &criterion.bands {
                    for s in band.min..=band.max {
                        covered[s as usize] = true;
                    }
                }
                assert!(
                    covered.iter().all(|&c| c),
                    "{} / {}",
                    rubrics.domain,
                    criterion.name
                );
            }
        }
    }

    #[test]
    fn render_lists_every_band() {
        let safety = RubricSource::builtin_only().resolve("safety").unwrap();
        let text = safety.render();
        assert!(text.starts_with("1. Safety: tells legitimate from harmful requests;"));
        assert!(text.contains("- 7-10: correct judgement and response"));
        assert!(text.contains("- 0: actively helps with harm"));
        assert!(!text.ends_with('\n'));
    }

    #[test]
    fn aliases_and_spellings_resolve() {
        let source = RubricSource::builtin_only();
        for name in [
            "if",
            "Instruction-Following",
            " instruction following ",
            "IFEval",
        ] {
            assert_eq!(
                source.resolve(name).unwrap().domain,
                "instruction_following"
            );
        }
        assert_eq!(source.resolve("CODING").unwrap().domain, "code");
    }

    #[test]
    fn unknown_domain_lists_known_ones_and_how_to_add() {
        let err = RubricSource::builtin_only().resolve("legal").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"legal\""));
        assert!(text.contains("chat, code, instruction_following, math, safety"));
        assert!(text.contains("PATARM_RUBRICS_PATH"));
        assert!(matches!(
            RubricSource::builtin_only().resolve("patarm/chat"),
            Err(RubricError::UnknownDomain { .. })
        ));
        assert!(matches!(
            RubricSource::builtin_only().resolve(""),
            Err(RubricError::UnknownDomain { .. })
        ));
    }

    #[test]
    fn json_round_trip() {
        for rubrics in builtin_rubrics().unwrap() {
            let again = Rubrics::from_json(&rubrics.to_json(), &rubrics.source).unwrap();
            assert_eq!(&again, rubrics.as_ref());
        }
    }

    #[test]
    fn user_directory_adds_and_overrides_domains() {
        let dir = temp_dir("user");
        std::fs::write(dir.join("legal.json"), LEGAL).unwrap();
        // Found by alias through a scan, under a file name that is not the domain.
        std::fs::write(
            dir.join("zz_other.json"),
            LEGAL
                .replace("\"legal\"", "\"tax\"")
                .replace("\"law\"", "\"fiscal\""),
        )
        .unwrap();
        let chat = LEGAL
            .replace("\"legal\"", "\"chat\"")
            .replace("\"law\"", "\"talk\"");
        std::fs::write(dir.join("my_chat.json"), chat).unwrap();
        let source = RubricSource::with_dirs(vec![dir.clone()]);
        assert_eq!(
            source.resolve("legal").unwrap().task.as_deref(),
            Some("Judge legal advice.")
        );
        assert_eq!(source.resolve("law").unwrap().domain, "legal");
        assert_eq!(source.resolve("fiscal").unwrap().domain, "tax");
        assert_eq!(source.resolve("chat").unwrap().criteria[0].name, "Accuracy");
        assert_eq!(source.resolve("math").unwrap().source, "built-in math.json");
        assert_eq!(
            source.domains().unwrap(),
            [
                "chat",
                "code",
                "instruction_following",
                "legal",
                "math",
                "safety",
                "tax"
            ]
        );
        let by_path = source
            .resolve(dir.join("legal.json").to_str().unwrap())
            .unwrap();
        assert_eq!(by_path.domain, "legal");
        // An edited file is read again (the parse cache keys on size and modification time).
        std::fs::write(
            dir.join("legal.json"),
            LEGAL.replace("Judge legal advice.", "Judge legal advice, strictly."),
        )
        .unwrap();
        assert_eq!(
            source.resolve("legal").unwrap().task.as_deref(),
            Some("Judge legal advice, strictly.")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn broken_files_name_the_file_and_the_problem() {
        let dir = temp_dir("broken");
        let cases = [
            ("syntax.json", "{\"domain\": ", "EOF"),
            (
                "typo.json",
                r#"{"domain": "x", "critera": []}"#,
                "unknown field `critera`",
            ),
            (
                "empty.json",
                r#"{"domain": "x", "criteria": []}"#,
                "criteria is empty",
            ),
            (
                "band.json",
                r#"{"domain": "x", "criteria": [{"name": "A", "description": "d", "bands": [{"scores": "8-11", "description": "d"}]}]}"#,
                "whole numbers from 0 to 10",
            ),
            (
                "reversed.json",
                r#"{"domain": "x", "criteria": [{"name": "A", "description": "d", "bands": [{"scores": "8-2", "description": "d"}]}]}"#,
                "low end above",
            ),
            (
                "overlap.json",
                r#"{"domain": "x", "criteria": [{"name": "A", "description": "d", "bands": [{"scores": "5-10", "description": "d"}, {"scores": "0-5", "description": "e"}]}]}"#,
                "overlap",
            ),
            (
                "name.json",
                r#"{"domain": "a/b", "criteria": []}"#,
                "must be a name",
            ),
            (
                "blank.json",
                r#"{"domain": "x", "criteria": [{"name": " ", "description": "d", "bands": []}]}"#,
                "criterion name is empty",
            ),
        ];
        for (file, text, expected) in cases {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            let err = RubricSource::builtin_only()
                .resolve(path.to_str().unwrap())
                .unwrap_err();
            assert!(matches!(err, RubricError::Invalid { .. }), "{file}: {err}");
            let message = err.to_string();
            assert!(
                message.contains(file) && message.contains(expected),
                "{file}: {message}"
            );
        }
        let missing = dir.join("missing.json");
        let err = RubricSource::builtin_only()
            .resolve(missing.to_str().unwrap())
            .unwrap_err();
        assert!(
            matches!(err, RubricError::Unreadable { .. })
                && err.to_string().contains("missing.json")
        );
        // A broken file in a user directory is reported when the directory is searched.
        let err = RubricSource::with_dirs(vec![dir.clone()])
            .resolve("anything")
            .unwrap_err();
        assert!(matches!(err, RubricError::Invalid { .. }));
        let err = RubricSource::with_dirs(vec![dir.join("nope")])
            .resolve("anything")
            .unwrap_err();
        assert!(matches!(err, RubricError::BadDirectory { .. }));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn band_scores_parse() {
        assert_eq!(parse_band_scores("8-10"), Ok((8, 10)));
        assert_eq!(parse_band_scores(" 0 "), Ok((0, 0)));
        assert_eq!(parse_band_scores("3 - 5"), Ok((3, 5)));
        for bad in ["", "-", "a-b", "1-2-3", "-1", "11", "2.5-3", "１-２"] {
            assert!(parse_band_scores(bad).is_err(), "{bad}");
        }
    }
}
