//! The judge prompt (docs/method.md §2): templates with named slots, the default pointwise and
//! pairwise templates, conversation rendering, and the batch builder used for data preparation.
//!
//! A template is text with slots `{task}`, `{rubrics}`, `{domain}`, `{prompt}` and either
//! `{response}` (pointwise) or `{response_a}` + `{response_b}` (pairwise); `{{` and `}}` are
//! literal braces. Slot values are inserted verbatim in one pass, so braces inside a prompt or
//! response are never read as slots.

use crate::rubrics::{RubricError, RubricSource, Rubrics, DEFAULT_DOMAIN};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A named place in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Task,
    Rubrics,
    Domain,
    Prompt,
    Response,
    ResponseA,
    ResponseB,
}

impl Slot {
    pub const ALL: [Slot; 7] = [
        Slot::Task,
        Slot::Rubrics,
        Slot::Domain,
        Slot::Prompt,
        Slot::Response,
        Slot::ResponseA,
        Slot::ResponseB,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Task => "task",
            Slot::Rubrics => "rubrics",
            Slot::Domain => "domain",
            Slot::Prompt => "prompt",
            Slot::Response => "response",
            Slot::ResponseA => "response_a",
            Slot::ResponseB => "response_b",
        }
    }

    pub fn from_name(name: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|slot| slot.name() == name)
    }
}

/// Pointwise (one response, a 0-10 score) or pairwise (responses A and B, verdict A or B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pointwise,
    Pairwise,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pointwise => "pointwise",
            Kind::Pairwise => "pairwise",
        }
    }

    /// The slots a template of this kind must use.
    pub fn required(self) -> &'static [Slot] {
        match self {
            Kind::Pointwise => &[Slot::Rubrics, Slot::Prompt, Slot::Response],
            Kind::Pairwise => &[
                Slot::Rubrics,
                Slot::Prompt,
                Slot::ResponseA,
                Slot::ResponseB,
            ],
        }
    }
}

fn slot_list(slots: &[Slot]) -> String {
    slots
        .iter()
        .map(|s| format!("{{{}}}", s.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn all_slots() -> String {
    format!(
        "{}; a pointwise template needs {}, a pairwise one {}",
        slot_list(&Slot::ALL),
        slot_list(Kind::Pointwise.required()),
        slot_list(Kind::Pairwise.required())
    )
}

/// A caller's template is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown template slot {{{slot}}} at line {line}, column {column}; the slots are {known}. Write {{{{ and }}}} for literal braces", known = all_slots())]
    UnknownSlot {
        slot: String,
        line: usize,
        column: usize,
    },
    #[error("unmatched '{brace}' at line {line}, column {column} of the template; write '{brace}{brace}' for a literal brace. The slots are {known}", known = all_slots())]
    UnmatchedBrace {
        brace: char,
        line: usize,
        column: usize,
    },
    #[error("the template is missing the slot(s) {missing}; the slots are {known}", missing = slot_list(.missing), known = all_slots())]
    MissingSlots { missing: Vec<Slot> },
    #[error("the template mixes {{response}} (pointwise) with {{response_a}}/{{response_b}} (pairwise); use one kind. The slots are {known}", known = all_slots())]
    MixedKinds,
    #[error("a {found} template cannot build a {wanted} prompt: a {wanted} template needs {required}", found = .found.name(), wanted = .wanted.name(), required = slot_list(.wanted.required()))]
    WrongKind { found: Kind, wanted: Kind },
    /// The filled prompt does not fit in memory (becomes MemoryError in Python).
    #[error("out of memory building a prompt of {bytes} bytes")]
    OutOfMemory { bytes: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// A parsed, validated template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
    kind: Kind,
    /// A baseline-judge template (docs/method.md §6): its judgements are parsed answer-only,
    /// and it needs no `{rubrics}` slot.
    answer_only: bool,
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

fn is_slot_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses a PaTaRM template; its kind follows from the response slots it uses.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        Self::parse_with(text, false)
    }

    /// Parses a template; `answer_only` marks a baseline-judge template, whose judgements
    /// are parsed answer-only and which may leave out `{rubrics}`.
    pub fn parse_with(text: &str, answer_only: bool) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut literal_start = 0;
        // Only ASCII braces are special, so scanning bytes keeps every slice on a char boundary.
        while i < bytes.len() {
            match bytes[i] {
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    literal.push_str(&text[literal_start..i]);
                    literal.push('{');
                    i += 2;
                    literal_start = i;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    literal.push_str(&text[literal_start..i]);
                    literal.push('}');
                    i += 2;
                    literal_start = i;
                }
                b'{' => {
                    let close = text[i + 1..].find(['{', '}']).map(|k| i + 1 + k);
                    let name = match close {
                        Some(end) if bytes[end] == b'}' => &text[i + 1..end],
                        _ => "",
                    };
                    // The position is computed only for an error: once per slot would make
                    // parsing quadratic in the template's length.
                    if !is_slot_name(name) {
                        let (line, column) = line_column(text, i);
                        return Err(TemplateError::UnmatchedBrace {
                            brace: '{',
                            line,
                            column,
                        });
                    }
                    let slot = Slot::from_name(name).ok_or_else(|| {
                        let (line, column) = line_column(text, i);
                        TemplateError::UnknownSlot {
                            slot: name.to_string(),
                            line,
                            column,
                        }
                    })?;
                    literal.push_str(&text[literal_start..i]);
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Slot(slot));
                    i += name.len() + 2;
                    literal_start = i;
                }
                b'}' => {
                    let (line, column) = line_column(text, i);
                    return Err(TemplateError::UnmatchedBrace {
                        brace: '}',
                        line,
                        column,
                    });
                }
                _ => i += 1,
            }
        }
        literal.push_str(&text[literal_start..]);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        let uses = |slot: Slot| pieces.contains(&Piece::Slot(slot));
        let pointwise = uses(Slot::Response);
        let pairwise = uses(Slot::ResponseA) || uses(Slot::ResponseB);
        let kind = match (pointwise, pairwise) {
            (true, true) => return Err(TemplateError::MixedKinds),
            (false, true) => Kind::Pairwise,
            _ => Kind::Pointwise,
        };
        let missing: Vec<Slot> = kind
            .required()
            .iter()
            .copied()
            // An answer-only template may leave out the rubrics.
            .filter(|&s| !(uses(s) || (answer_only && s == Slot::Rubrics)))
            .collect();
        if !missing.is_empty() {
            return Err(TemplateError::MissingSlots { missing });
        }
        Ok(Template {
            text: text.to_string(),
            pieces,
            kind,
            answer_only,
        })
    }

    /// The built-in baseline-judge template (docs/method.md §6, the paper's appendix B.1):
    /// pointwise, scored 1 to 10 in `<answer>`, parsed answer-only.
    pub fn baseline() -> &'static Arc<Template> {
        static BASELINE: OnceLock<Arc<Template>> = OnceLock::new();
        BASELINE.get_or_init(|| {
            Arc::new(
                Template::parse_with(BASELINE_TEXT, true).unwrap_or_else(|_| Template {
                    text: BASELINE_TEXT.to_string(),
                    pieces: vec![Piece::Text(BASELINE_TEXT.to_string())],
                    kind: Kind::Pointwise,
                    answer_only: true,
                }),
            )
        })
    }

    /// Initialises, on this thread, the built-in templates (each parsed once per process
    /// behind a one-time lock), before other threads exist: see `rubrics::warm_up`.
    pub fn warm_up() {
        let _ = Self::baseline();
        let _ = Self::shared_default(Kind::Pointwise);
        let _ = Self::shared_default(Kind::Pairwise);
    }

    /// Whether judgements written for this template are parsed answer-only.
    pub fn answer_only(&self) -> bool {
        self.answer_only
    }

    /// The built-in template of a kind (docs/method.md §2).
    pub fn default_for(kind: Kind) -> &'static Template {
        Self::shared_default(kind)
    }

    /// The built-in template of a kind, shared (parsed once per process).
    pub fn shared_default(kind: Kind) -> &'static Arc<Template> {
        static POINTWISE: OnceLock<Arc<Template>> = OnceLock::new();
        static PAIRWISE: OnceLock<Arc<Template>> = OnceLock::new();
        let cell = match kind {
            Kind::Pointwise => &POINTWISE,
            Kind::Pairwise => &PAIRWISE,
        };
        // The default texts are tested to parse; a pieces-only fallback keeps this panic-free.
        cell.get_or_init(|| {
            let text = default_text(kind);
            Arc::new(Template::parse(&text).unwrap_or_else(|_| Template {
                text: text.clone(),
                pieces: vec![Piece::Text(text)],
                kind,
                answer_only: false,
            }))
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The distinct slots the template uses, in order of first use.
    pub fn slots(&self) -> Vec<Slot> {
        let mut seen = Vec::new();
        for piece in &self.pieces {
            if let Piece::Slot(slot) = piece {
                if !seen.contains(slot) {
                    seen.push(*slot);
                }
            }
        }
        seen
    }

    /// Fills the slots. `responses` must match the template's kind.
    pub fn fill(
        &self,
        context: &JudgeContext,
        prompt: &str,
        responses: Responses<'_>,
    ) -> Result<String, TemplateError> {
        let (response, response_a, response_b) = match (self.kind, responses) {
            (Kind::Pointwise, Responses::One(r)) => (r, "", ""),
            (Kind::Pairwise, Responses::Two(a, b)) => ("", a, b),
            (found, given) => {
                return Err(TemplateError::WrongKind {
                    found,
                    wanted: given.kind(),
                })
            }
        };
        let value = |slot: Slot| match slot {
            Slot::Task => context.task.as_str(),
            Slot::Rubrics => context.rubrics.as_str(),
            Slot::Domain => context.domain.as_str(),
            Slot::Prompt => prompt,
            Slot::Response => response,
            Slot::ResponseA => response_a,
            Slot::ResponseB => response_b,
        };
        let size = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Slot(s) => value(*s).len(),
            })
            .fold(0usize, usize::saturating_add);
        // The size comes from the caller's texts: failing to allocate is an error, not an abort.
        let mut out = String::new();
        out.try_reserve_exact(size)
            .map_err(|_| TemplateError::OutOfMemory { bytes: size })?;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Slot(s) => out.push_str(value(*s)),
            }
        }
        Ok(out)
    }
}

/// The response(s) judged by one prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Responses<'a> {
    One(&'a str),
    Two(&'a str, &'a str),
}

impl Responses<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            Responses::One(_) => Kind::Pointwise,
            Responses::Two(..) => Kind::Pairwise,
        }
    }
}

/// What a domain contributes to a prompt: its name, task description and rendered rubrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeContext {
    pub domain: String,
    pub task: String,
    pub rubrics: String,
}

impl JudgeContext {
    /// `task` overrides the rubric file's task description.
    pub fn new(rubrics: &Rubrics, task: Option<&str>) -> Self {
        JudgeContext {
            domain: rubrics.domain.clone(),
            task: task.map_or_else(|| rubrics.task_description(), str::to_string),
            rubrics: rubrics.render().to_string(),
        }
    }
}

/// The judge context of each row of a batch, each distinct (domain, task) resolved and rendered
/// once: `fixed` rubrics (the caller's `rubrics=`) serve every row, else a row's domain (None:
/// [`DEFAULT_DOMAIN`]) is resolved in `source`; a row's task overrides the rubric file's.
#[derive(Debug)]
pub struct RowContexts<'a> {
    source: &'a RubricSource,
    fixed: Option<Arc<Rubrics>>,
    rubrics: HashMap<String, Arc<Rubrics>>,
    contexts: HashMap<(String, Option<String>), Arc<JudgeContext>>,
}

impl<'a> RowContexts<'a> {
    pub fn new(source: &'a RubricSource, fixed: Option<Arc<Rubrics>>) -> Self {
        RowContexts {
            source,
            fixed,
            rubrics: HashMap::new(),
            contexts: HashMap::new(),
        }
    }

    /// The context of a row with this domain and task.
    pub fn get(
        &mut self,
        domain: Option<&str>,
        task: Option<&str>,
    ) -> Result<Arc<JudgeContext>, RubricError> {
        let key = (
            domain.unwrap_or(DEFAULT_DOMAIN).to_string(),
            task.map(str::to_string),
        );
        if let Some(context) = self.contexts.get(&key) {
            return Ok(Arc::clone(context));
        }
        let rubrics = match &self.fixed {
            Some(rubrics) => Arc::clone(rubrics),
            None => match self.rubrics.get(&key.0) {
                Some(rubrics) => Arc::clone(rubrics),
                None => {
                    let rubrics = self.source.resolve(&key.0)?;
                    self.rubrics.insert(key.0.clone(), Arc::clone(&rubrics));
                    rubrics
                }
            },
        };
        let context = Arc::new(JudgeContext::new(&rubrics, key.1.as_deref()));
        self.contexts.insert(key, Arc::clone(&context));
        Ok(context)
    }
}

/// One turn of a chat-message prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: String,
    pub content: String,
}

/// One part of an OpenAI-style message content list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// A text part's text.
    Text(String),
    /// Any other part (an image, audio, ...), by its type.
    Other(String),
}

/// A content list as the judge reads it: text parts kept, every other part a `[type]` marker
/// (the judge cannot see it, but learns that it was there), one part per line.
pub fn render_content_parts(parts: &[ContentPart]) -> String {
    parts
        .iter()
        .map(|part| match part {
            ContentPart::Text(text) => text.clone(),
            ContentPart::Other(kind) => format!("[{kind}]"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The prompt being judged: plain text or a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptText {
    Plain(String),
    Conversation(Vec<Turn>),
}

impl PromptText {
    pub fn render(&self) -> std::borrow::Cow<'_, str> {
        match self {
            PromptText::Plain(text) => std::borrow::Cow::Borrowed(text),
            PromptText::Conversation(turns) => std::borrow::Cow::Owned(render_conversation(turns)),
        }
    }
}

fn display_role(role: &str) -> String {
    let role = role.trim();
    let mut chars = role.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Unknown".to_string(),
    }
}

/// A conversation as readable text: `User: ...`, `Assistant: ...` turns separated by blank lines.
/// A lone user turn renders as its content, the same as the plain-string prompt.
pub fn render_conversation(turns: &[Turn]) -> String {
    if let [only] = turns {
        if only.role.trim().eq_ignore_ascii_case("user") {
            return only.content.clone();
        }
    }
    turns
        .iter()
        .map(|turn| format!("{}: {}", display_role(&turn.role), turn.content))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// One row of a batch: its domain context, prompt and response(s) (`response_b` for pairwise).
#[derive(Debug, Clone)]
pub struct PromptRow {
    pub context: Arc<JudgeContext>,
    pub prompt: PromptText,
    pub response: String,
    pub response_b: Option<String>,
}

/// Builds every row's prompt in parallel (`threads` as in [`crate::parallel::run`]).
pub fn build_batch(
    template: &Template,
    rows: &[PromptRow],
    threads: Option<usize>,
) -> Result<Vec<String>, TemplateError> {
    let cost =
        |row: &PromptRow| row.response.len() + row.response_b.as_ref().map_or(0, String::len);
    let build = |_, row: &PromptRow| {
        let responses = match &row.response_b {
            Some(b) => Responses::Two(&row.response, b),
            None => Responses::One(&row.response),
        };
        template.fill(&row.context, &row.prompt.render(), responses)
    };
    crate::parallel::map_chunked(threads, rows, cost, build)
        .into_iter()
        .collect()
}

// The default templates: one shared layout (docs/method.md §2), differing only where one
// response becomes two. Tag names appear only in the output-format example, so the tags in a
// rendered prompt read, in order, exactly as a valid judgement's (docs/method.md §3).
const ROLE: &str =
    "You are an expert assistant that evaluates the quality of responses against rubrics. \
Read the task, the rubrics, the prompt and ";

const TASK_AND_RUBRICS: &str = "

<task>
{task}
</task>

These are the primary rubrics of this task. They are fixed, and they carry the most weight in your judgement:
<rubrics>
{rubrics}
</rubrics>

As part of your evaluation, write 1 to 3 additional rubrics suited to this specific prompt that cover what the \
primary rubrics miss. Give each additional rubric a name, what it checks and score bands. Weight the \
additional rubrics below the primary rubrics in your final judgement.

<prompt>
{prompt}
</prompt>

";

const GENERATED_RUBRICS: &str = "
<generate_rubrics>
Additional rubric 1: its name, what it checks, and its score bands.
</generate_rubrics>
(one such block for each additional rubric: 1 to 3 blocks in all)
";

/// The baseline-judge prompt, derived from RewardBench's pointwise (MT-Bench) judge prompt:
/// the query and the reply in tagged blocks, and the 1-10 rating in `<answer>` instead of
/// `[[rating]]`, so baselines and PaTaRM judges meet the same evaluation.
const BASELINE_TEXT: &str = "Please act as an impartial judge and evaluate the quality of the response provided by an \
AI assistant to the user query displayed below. Your evaluation should consider factors such as the helpfulness, \
relevance, accuracy, depth, creativity, and level of detail of the response. Begin your evaluation by providing a \
short explanation. Be as objective as possible. After providing your explanation, you must rate the response on a \
scale of 1 to 10 and output only the number inside <answer>...</answer>, for example: <answer>5</answer>.

<query>
{prompt}
</query>

<response>
{response}
</response>";

fn default_text(kind: Kind) -> String {
    match kind {
        Kind::Pointwise => [
            ROLE,
            "the response carefully, then score the response strictly by the rubrics.",
            TASK_AND_RUBRICS,
            "<response>\n{response}\n</response>\n\n",
            "Evaluate the response. Write your output in exactly this format and order:\n",
            "<think>\nYour reasoning: what the prompt asks for, and the strengths and weaknesses of the response.\n</think>",
            GENERATED_RUBRICS,
            "<eval>\nHow each primary and additional rubric applies to the response, with a score for each.\n</eval>\n",
            "<answer>\nYour final score of the response: one number from 0 to 10, such as 3, 7 or 8.5\n</answer>\n\n",
            "The answer block holds that number and nothing else. Weigh the primary rubrics most.",
        ]
        .concat(),
        Kind::Pairwise => [
            ROLE,
            "the two responses carefully, then decide which response is better, strictly by the rubrics.",
            TASK_AND_RUBRICS,
            "Response A:\n<response>\n{response_a}\n</response>\n\n",
            "Response B:\n<response>\n{response_b}\n</response>\n\n",
            "Compare the two responses on their merits; their order must not affect your verdict. ",
            "Write your output in exactly this format and order:\n",
            "<think>\nYour reasoning: what the prompt asks for, and the strengths and weaknesses of each response.\n</think>",
            GENERATED_RUBRICS,
            "<eval>\nHow each primary and additional rubric applies to Response A and to Response B.\n</eval>\n",
            "<answer>\nThe letter of the better response: A or B\n</answer>\n\n",
            "The answer block holds that single letter and nothing else. Weigh the primary rubrics most.",
        ]
        .concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_parts_keep_text_and_mark_the_rest() {
        let parts = [
            ContentPart::Text("Describe this.".into()),
            ContentPart::Other("image_url".into()),
            ContentPart::Text("Briefly.".into()),
        ];
        assert_eq!(
            render_content_parts(&parts),
            "Describe this.\n[image_url]\nBriefly."
        );
        assert_eq!(render_content_parts(&[]), "");
    }

    #[test]
    fn row_contexts_default_the_domain_share_each_context_and_let_fixed_rubrics_win() {
        let source = RubricSource::builtin_only();
        let mut rows = RowContexts::new(&source, None);
        let default = rows.get(None, None).unwrap();
        assert_eq!(default.domain, DEFAULT_DOMAIN);
        assert!(Arc::ptr_eq(
            &default,
            &rows.get(Some(DEFAULT_DOMAIN), None).unwrap()
        ));
        let with_task = rows.get(None, Some("Judge the haiku.")).unwrap();
        assert_eq!(with_task.task, "Judge the haiku.");
        assert_eq!(with_task.rubrics, default.rubrics);
        assert!(!Arc::ptr_eq(&default, &with_task));
        let safety = rows.get(Some("safety"), None).unwrap();
        assert_eq!(*safety, context("safety"));
        assert!(rows.get(Some("no-such-domain"), None).is_err());

        let fixed = source.resolve("safety").unwrap();
        let mut rows = RowContexts::new(&source, Some(fixed));
        assert_eq!(rows.get(Some("chat"), None).unwrap().domain, safety.domain);
        // Fixed rubrics serve every row: an unknown domain is not looked up.
        assert_eq!(*rows.get(Some("no-such-domain"), None).unwrap(), *safety);
    }

    fn context(domain: &str) -> JudgeContext {
        JudgeContext::new(&RubricSource::builtin_only().resolve(domain).unwrap(), None)
    }

    /// The judge tags of docs/method.md §3 (R1), in text order.
    fn tag_sequence(text: &str) -> Vec<&str> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < text.len() {
            // The valid sequence holds each of the eight tags once.
            match VALID_SEQUENCE.iter().find(|t| text[i..].starts_with(**t)) {
                Some(tag) => {
                    found.push(*tag);
                    i += tag.len();
                }
                None => i += text[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        found
    }

    /// R2's tag order with one generated rubric.
    const VALID_SEQUENCE: [&str; 8] = [
        "<think>",
        "</think>",
        "<generate_rubrics>",
        "</generate_rubrics>",
        "<eval>",
        "</eval>",
        "<answer>",
        "</answer>",
    ];

    #[test]
    fn default_templates_parse_with_the_right_slots() {
        let point = Template::default_for(Kind::Pointwise);
        assert_eq!(point.kind(), Kind::Pointwise);
        assert_eq!(
            point.slots(),
            [Slot::Task, Slot::Rubrics, Slot::Prompt, Slot::Response]
        );
        let pair = Template::default_for(Kind::Pairwise);
        assert_eq!(pair.kind(), Kind::Pairwise);
        assert_eq!(
            pair.slots(),
            [
                Slot::Task,
                Slot::Rubrics,
                Slot::Prompt,
                Slot::ResponseA,
                Slot::ResponseB
            ]
        );
        assert!(Template::parse(&default_text(Kind::Pointwise)).is_ok());
        assert!(Template::parse(&default_text(Kind::Pairwise)).is_ok());
    }

    #[test]
    fn pointwise_prompt_has_every_part_in_order() {
        let text = Template::default_for(Kind::Pointwise)
            .fill(&context("math"), "What is 2+2?", Responses::One("4"))
            .unwrap();
        let order = [
            "You are an expert assistant that evaluates the quality of responses against rubrics.",
            "<task>\nJudge a response to a mathematics problem",
            "<rubrics>\n1. Correctness: the final answer is mathematically right",
            "2. Logic: suitable method",
            "1 to 3 additional rubrics",
            "below the primary rubrics",
            "<prompt>\nWhat is 2+2?\n</prompt>",
            "<response>\n4\n</response>",
            "<think>",
            "<answer>\nYour final score of the response: one number from 0 to 10",
            "that number and nothing else",
        ];
        let mut at = 0;
        for part in order {
            let found = text[at..]
                .find(part)
                .unwrap_or_else(|| panic!("missing or out of order: {part}\n{text}"));
            at += found + part.len();
        }
        assert_eq!(tag_sequence(&text), VALID_SEQUENCE);
    }

    #[test]
    fn pairwise_prompt_labels_both_responses() {
        let text = Template::default_for(Kind::Pairwise)
            .fill(
                &context("chat"),
                "Hi",
                Responses::Two("first answer", "second answer"),
            )
            .unwrap();
        assert!(text.contains("Response A:\n<response>\nfirst answer\n</response>\n\nResponse B:\n<response>\nsecond answer\n</response>"));
        assert!(text.contains("<answer>\nThe letter of the better response: A or B\n</answer>"));
        assert_eq!(tag_sequence(&text), VALID_SEQUENCE);
    }

    #[test]
    fn wrong_kind_is_an_error() {
        let err = Template::default_for(Kind::Pointwise)
            .fill(&context("chat"), "p", Responses::Two("a", "b"))
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::WrongKind {
                found: Kind::Pointwise,
                wanted: Kind::Pairwise
            }
        );
        assert!(err.to_string().contains("{response_a}, {response_b}"));
    }

    #[test]
    fn user_template_slots_and_escapes() {
        let t =
            Template::parse("{{json}} {domain}|{task}|{rubrics}|{prompt}|{response}}}").unwrap();
        assert_eq!(t.kind(), Kind::Pointwise);
        let ctx = JudgeContext {
            domain: "d".into(),
            task: "t".into(),
            rubrics: "r".into(),
        };
        // Braces inside values are inserted verbatim, never read as slots.
        assert_eq!(
            t.fill(&ctx, "{prompt}", Responses::One("{x}")).unwrap(),
            "{json} d|t|r|{prompt}|{x}}"
        );
        let pair = Template::parse("{rubrics}{prompt}{response_a}{response_b}").unwrap();
        assert_eq!(pair.kind(), Kind::Pairwise);
        assert_eq!(
            pair.fill(&ctx, "p", Responses::Two("a", "b")).unwrap(),
            "rpab"
        );
    }

    #[test]
    fn baseline_template_is_answer_only_and_needs_no_rubrics() {
        let baseline = Template::baseline();
        assert!(baseline.answer_only());
        assert_eq!(baseline.kind(), Kind::Pointwise);
        assert_eq!(baseline.slots(), [Slot::Prompt, Slot::Response]);
        assert!(!Template::default_for(Kind::Pointwise).answer_only());
        let text = baseline
            .fill(&context("chat"), "Name a prime.", Responses::One("7"))
            .unwrap();
        let order = [
            "act as an impartial judge",
            "helpfulness, relevance, accuracy, depth, creativity, and level of detail",
            "Begin your evaluation by providing a short explanation",
            "Be as objective as possible",
            "scale of 1 to 10",
            "output only the number inside <answer>...</answer>",
            "<query>\nName a prime.\n</query>",
            "<response>\n7\n</response>",
        ];
        let mut at = 0;
        for part in order {
            at += text[at..]
                .find(part)
                .unwrap_or_else(|| panic!("{part:?} missing or out of order"));
        }
        assert!(!text.contains("<rubrics>") && !text.contains("<think>"));
        // Only answer-only templates may leave out {rubrics}; they still need the response.
        assert!(Template::parse_with("{prompt} {response}", true).is_ok());
        assert_eq!(
            Template::parse_with("{prompt}", true).unwrap_err(),
            TemplateError::MissingSlots {
                missing: vec![Slot::Response]
            }
        );
        assert_ne!(
            Template::parse_with(baseline.text(), false).ok().as_ref(),
            Some(&**baseline)
        );
    }

    #[test]
    fn template_errors_say_what_exists() {
        let err = Template::parse("{rubrics}\n{prompt} {respons}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownSlot {
                slot: "respons".into(),
                line: 2,
                column: 10
            }
        );
        let message = err.to_string();
        assert!(message.contains(
            "{task}, {rubrics}, {domain}, {prompt}, {response}, {response_a}, {response_b}"
        ));
        assert!(message.contains("{{"));

        assert_eq!(
            Template::parse("{prompt} {response}").unwrap_err(),
            TemplateError::MissingSlots {
                missing: vec![Slot::Rubrics]
            }
        );
        assert_eq!(
            Template::parse("{rubrics} {prompt} {response_a}").unwrap_err(),
            TemplateError::MissingSlots {
                missing: vec![Slot::ResponseB]
            }
        );
        assert_eq!(
            Template::parse("just text").unwrap_err(),
            TemplateError::MissingSlots {
                missing: vec![Slot::Rubrics, Slot::Prompt, Slot::Response]
            }
        );
        assert_eq!(
            Template::parse("{rubrics}{prompt}{response}{response_a}{response_b}").unwrap_err(),
            TemplateError::MixedKinds
        );
        assert_eq!(
            Template::parse("é {\"a\": 1}").unwrap_err(),
            TemplateError::UnmatchedBrace {
                brace: '{',
                line: 1,
                column: 3
            }
        );
        assert_eq!(
            Template::parse("ab}").unwrap_err(),
            TemplateError::UnmatchedBrace {
                brace: '}',
                line: 1,
                column: 3
            }
        );
        assert!(matches!(
            Template::parse("{").unwrap_err(),
            TemplateError::UnmatchedBrace { .. }
        ));
        assert!(matches!(
            Template::parse("{prompt").unwrap_err(),
            TemplateError::UnmatchedBrace { .. }
        ));
        assert!(matches!(
            Template::parse("{}").unwrap_err(),
            TemplateError::UnmatchedBrace { .. }
        ));
    }

    #[test]
    fn hostile_templates_never_panic() {
        for text in [
            "{{{",
            "}}}",
            "{{}",
            "{é}",
            "{\u{0}}",
            "\u{0}{",
            "{{prompt}}",
            "{a{b}",
            "日本{語}",
            "{response_a}{",
        ] {
            let _ = Template::parse(text);
        }
    }

    #[test]
    fn conversations_render_readably() {
        let turns = vec![
            Turn {
                role: "system".into(),
                content: "Be brief.".into(),
            },
            Turn {
                role: "user".into(),
                content: "Hi".into(),
            },
            Turn {
                role: "assistant".into(),
                content: "Hello!".into(),
            },
            Turn {
                role: "user".into(),
                content: "Ça va ?".into(),
            },
        ];
        assert_eq!(
            render_conversation(&turns),
            "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Ça va ?"
        );
        let lone = [Turn {
            role: "user".into(),
            content: "Only this".into(),
        }];
        assert_eq!(render_conversation(&lone), "Only this");
        assert_eq!(render_conversation(&[]), "");
    }

    #[test]
    fn batch_matches_single_builds_for_any_thread_count() {
        let chat = Arc::new(context("chat"));
        let code = Arc::new(context("code"));
        let rows: Vec<PromptRow> = (0..200)
            .map(|i| PromptRow {
                context: Arc::clone(if i % 3 == 0 { &code } else { &chat }),
                prompt: if i % 2 == 0 {
                    PromptText::Plain(format!("prompt {i}"))
                } else {
                    PromptText::Conversation(vec![Turn {
                        role: "user".into(),
                        content: format!("prompt {i}"),
                    }])
                },
                response: format!("response {i} ✓"),
                response_b: None,
            })
            .collect();
        let template = Template::default_for(Kind::Pointwise);
        let one = build_batch(template, &rows, Some(1)).unwrap();
        let many = build_batch(template, &rows, Some(3)).unwrap();
        assert_eq!(one, many);
        for (row, built) in rows.iter().zip(&one) {
            let single = template
                .fill(
                    &row.context,
                    &row.prompt.render(),
                    Responses::One(&row.response),
                )
                .unwrap();
            assert_eq!(&single, built);
        }
        let pairwise_rows: Vec<PromptRow> = rows
            .iter()
            .cloned()
            .map(|mut r| {
                r.response_b = Some("b".into());
                r
            })
            .collect();
        assert!(matches!(
            build_batch(template, &pairwise_rows, Some(2)),
            Err(TemplateError::WrongKind { .. })
        ));
    }

    #[test]
    fn a_million_slots_parse_in_one_pass() {
        // Quadratic parsing (a position computed per slot from the start) takes hours here.
        let slots = 1_000_000;
        let mut text = String::from("{task}{rubrics}{response}\n");
        for _ in 0..slots {
            text.push_str("{prompt}\n");
        }
        let template = Template::parse(&text).unwrap();
        assert_eq!(
            template
                .pieces
                .iter()
                .filter(|p| matches!(p, Piece::Slot(Slot::Prompt)))
                .count(),
            slots
        );
        // An error still reports where it is, after the million slots.
        text.push_str("x {nope}");
        let err = Template::parse(&text).unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownSlot {
                slot: "nope".into(),
                line: slots + 2,
                column: 3
            }
        );
    }
}
