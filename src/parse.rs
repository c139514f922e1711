//! Parsing a judgement (docs/method.md §3, rules R1-R4).
//!
//! The scan is one pass over the bytes: memchr finds each `<` (see [`less_thans`]),
//! and at most 20 following bytes decide whether it opens one of the eight tags of R1. The tags feed a small state
//! machine that accepts exactly the order of R2 and stops at the first violation, so any
//! input (10 MB, NUL bytes, tag noise) is handled in linear time. Nothing here allocates
//! except the list of rubric blocks of the full [`parse`].

use std::ops::Range;

use thiserror::Error;

use crate::exact::Exact;

/// The two kinds of format error of docs/method.md §3. `code()` is the stable integer used
/// in batch arrays (0 means no error), `kind()` the string used in the Python API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum FormatError {
    /// R2: a tag is missing, repeated, nested or out of order.
    #[error("missing or mis-ordered tags")]
    MissingOrMisorderedTags,
    /// R4: the answer is not a number in [0, 10] (pointwise) or not `A`/`B` (pairwise).
    #[error("invalid verdict")]
    InvalidVerdict,
}

/// Format reward of a judgement without a format error.
pub const FORMAT_REWARD_OK: f64 = 0.0;
/// Format reward for missing or mis-ordered tags.
pub const FORMAT_REWARD_TAGS: f64 = -1.5;
/// Format reward for an invalid verdict.
pub const FORMAT_REWARD_VERDICT: f64 = -1.0;

/// The error kinds in code order: index 0 is "no error" (`None` in Python).
pub const ERROR_KINDS: [Option<&str>; 3] = [
    None,
    Some("missing_or_misordered_tags"),
    Some("invalid_verdict"),
];

impl FormatError {
    /// Stable code for arrays: 1 for tags, 2 for the verdict (0 is "no error").
    pub fn code(self) -> i8 {
        match self {
            FormatError::MissingOrMisorderedTags => 1,
            FormatError::InvalidVerdict => 2,
        }
    }

    /// The error kind as the Python API spells it.
    pub fn kind(self) -> &'static str {
        match self {
            FormatError::MissingOrMisorderedTags => "missing_or_misordered_tags",
            FormatError::InvalidVerdict => "invalid_verdict",
        }
    }

    /// The format reward of docs/method.md §3.
    pub fn reward(self) -> f64 {
        match self {
            FormatError::MissingOrMisorderedTags => FORMAT_REWARD_TAGS,
            FormatError::InvalidVerdict => FORMAT_REWARD_VERDICT,
        }
    }
}

/// Code of an optional error (0 when none).
pub fn error_code(error: Option<FormatError>) -> i8 {
    error.map_or(0, FormatError::code)
}

/// Format reward of an optional error.
pub fn format_reward(error: Option<FormatError>) -> f64 {
    error.map_or(FORMAT_REWARD_OK, FormatError::reward)
}

/// A pairwise verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    A,
    B,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::A => "A",
            Choice::B => "B",
        }
    }

    /// `A` or `B`, exactly (no other spelling).
    pub fn from_label(label: &str) -> Option<Choice> {
        match label {
            "A" => Some(Choice::A),
            "B" => Some(Choice::B),
            _ => None,
        }
    }
}

/// How to read a judgement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The verdict is `A`/`B` (docs/method.md §5) instead of a 0-10 score.
    pub pairwise: bool,
    /// The chat template opened `<think>` in the prompt: the text is read as if it began
    /// with `<think>` (so a `<think>` of its own counts as a repeated tag).
    pub think_in_prompt: bool,
    /// Baseline judges (docs/method.md §6): only an `<answer>` block is required, the last
    /// complete one counts, and a pointwise verdict must lie in [1, 10]. The other tags are
    /// plain text and `think_in_prompt` does not apply.
    pub answer_only: bool,
}

/// Lowest and highest valid pointwise verdict of an answer-only (baseline) judgement.
pub const ANSWER_ONLY_RANGE: (i64, i64) = (1, 10);

/// What a judgement decides, without its section texts: the fast form used by batches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The pointwise score as the nearest float, when the judgement has no format error
    /// (never NaN, never -0.0).
    pub score: Option<f64>,
    /// The exact value of the verdict (docs/method.md §4); `Some` exactly when `score` is.
    pub exact: Option<Exact>,
    /// The pairwise verdict, when the judgement has no format error.
    pub choice: Option<Choice>,
    pub error: Option<FormatError>,
}

impl Outcome {
    pub fn format_reward(&self) -> f64 {
        format_reward(self.error)
    }

    /// The score, or NaN when there is none (the array form).
    pub fn score_or_nan(&self) -> f64 {
        self.score.unwrap_or(f64::NAN)
    }
}

/// A parsed judgement with its section texts (byte ranges resolved to `&str`).
/// Sections are `None` (and `rubrics` empty) when the tags are missing or mis-ordered.
/// Section texts have surrounding whitespace removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement<'a> {
    pub outcome: Outcome,
    pub think: Option<&'a str>,
    pub rubrics: Vec<&'a str>,
    pub eval: Option<&'a str>,
    pub answer: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    ThinkOpen,
    ThinkClose,
    RubricsOpen,
    RubricsClose,
    EvalOpen,
    EvalClose,
    AnswerOpen,
    AnswerClose,
}

/// The tag starting at `rest[0] == b'<'`, with its length, if `rest` starts with one of the
/// eight tags of R1 (exact bytes: lower case, no spaces, no attributes).
fn tag_at(rest: &[u8]) -> Option<(Tag, usize)> {
    let (closing, name) = match rest.get(1)? {
        b'/' => (true, rest.get(2..)?),
        _ => (false, rest.get(1..)?),
    };
    let (open, close, literal): (Tag, Tag, &[u8]) = match name.first()? {
        b't' => (Tag::ThinkOpen, Tag::ThinkClose, b"think>"),
        b'g' => (Tag::RubricsOpen, Tag::RubricsClose, b"generate_rubrics>"),
        b'e' => (Tag::EvalOpen, Tag::EvalClose, b"eval>"),
        b'a' => (Tag::AnswerOpen, Tag::AnswerClose, b"answer>"),
        _ => return None,
    };
    if !name.starts_with(literal) {
        return None;
    }
    let len = literal.len() + if closing { 2 } else { 1 };
    Some((if closing { close } else { open }, len))
}

/// Positions of `<` in `bytes`, in order (memchr: SIMD where the target has it, a portable
/// word-at-a-time loop elsewhere). A plain SSE2 block scan measured no faster on realistic
/// judgements (docs/benchmarks.md, "Finding tags") and was removed with its unsafe code.
fn less_thans(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'<', bytes)
}

/// Where R2 says we are: each state names the one (or two) tags allowed next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    BeforeThink,
    InThink,
    BeforeRubrics,
    InRubrics,
    AfterRubrics,
    InEval,
    BeforeAnswer,
    InAnswer,
    Done,
}

/// Byte ranges of the blocks' contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Spans {
    think: Range<usize>,
    eval: Range<usize>,
    answer: Range<usize>,
}

/// Scans the tags of `bytes` per R1-R3. `rubrics` receives each rubric block's content range
/// when given (the batch path passes `None` and allocates nothing).
fn scan(
    bytes: &[u8],
    think_in_prompt: bool,
    mut rubrics: Option<&mut Vec<Range<usize>>>,
) -> Result<Spans, FormatError> {
    let mut state = if think_in_prompt {
        State::InThink
    } else {
        State::BeforeThink
    };
    let mut spans = Spans::default();
    let mut open_end = 0; // end of the last opening tag: start of the current block's content
    for at in less_thans(bytes) {
        let Some((tag, len)) = bytes.get(at..).and_then(tag_at) else {
            continue;
        };
        let end = at + len;
        state = match (state, tag) {
            (State::BeforeThink, Tag::ThinkOpen) => State::InThink,
            (State::InThink, Tag::ThinkClose) => {
                spans.think = open_end..at;
                State::BeforeRubrics
            }
            (State::BeforeRubrics | State::AfterRubrics, Tag::RubricsOpen) => State::InRubrics,
            (State::InRubrics, Tag::RubricsClose) => {
                if let Some(list) = rubrics.as_deref_mut() {
                    list.push(open_end..at);
                }
                State::AfterRubrics
            }
            (State::AfterRubrics, Tag::EvalOpen) => State::InEval,
            (State::InEval, Tag::EvalClose) => {
                spans.eval = open_end..at;
                State::BeforeAnswer
            }
            (State::BeforeAnswer, Tag::AnswerOpen) => State::InAnswer,
            (State::InAnswer, Tag::AnswerClose) => {
                spans.answer = open_end..at;
                State::Done
            }
            _ => return Err(FormatError::MissingOrMisorderedTags),
        };
        open_end = end;
    }
    if state == State::Done {
        Ok(spans)
    } else {
        Err(FormatError::MissingOrMisorderedTags)
    }
}

/// The answer-only scan (baseline judges): the content of the last `<answer>` that a
/// `</answer>` follows, up to the first `</answer>` after it. A stray `</answer>` (no
/// `<answer>` open) and an `<answer>` never closed are ignored; no complete block is a tag error.
fn scan_answer_only(bytes: &[u8]) -> Result<Range<usize>, FormatError> {
    let mut open_end = None;
    let mut last_block = None;
    for at in less_thans(bytes) {
        match bytes.get(at..).and_then(tag_at) {
            Some((Tag::AnswerOpen, len)) => open_end = Some(at + len),
            Some((Tag::AnswerClose, _)) => {
                if let Some(start) = open_end.take() {
                    last_block = Some(start..at);
                }
            }
            _ => {}
        }
    }
    last_block.ok_or(FormatError::MissingOrMisorderedTags)
}

/// R4 whitespace: what Python's `str.strip()` removes, i.e. Unicode `White_Space` (what
/// `char::is_whitespace` tests) plus the separators U+001C..U+001F.
pub fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `text` without leading and trailing [`is_python_whitespace`] characters.
pub fn python_strip(text: &str) -> &str {
    text.trim_matches(is_python_whitespace)
}

/// [`python_strip`] on bytes; invalid UTF-8 (only from callers handing raw bytes) is trimmed
/// of ASCII whitespace only.
fn trim_bytes(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Ok(text) => python_strip(text).as_bytes(),
        Err(_) => {
            let ascii_space = |b: &u8| b.is_ascii_whitespace() || matches!(b, 0x0b | 0x1c..=0x1f);
            let start = bytes
                .iter()
                .position(|b| !ascii_space(b))
                .unwrap_or(bytes.len());
            let end = bytes
                .iter()
                .rposition(|b| !ascii_space(b))
                .map_or(start, |i| i + 1);
            &bytes[start..end]
        }
    }
}

/// R4, pointwise: a plain decimal number (`[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)`, so `7.` is 7),
/// no exponent, no inf/nan, valued in [0, 10]: its exact value (docs/method.md §4). A fraction
/// of more than [`crate::exact::MAX_DIGITS`] digits (trailing zeros aside) is refused too.
pub fn parse_score(verdict: &[u8]) -> Option<Exact> {
    let value = Exact::parse_decimal(verdict)?;
    value.in_range(0, 10).then_some(value)
}

fn verdict_of(answer: &[u8], options: ParseOptions) -> Outcome {
    let verdict = trim_bytes(answer);
    let valid = if options.pairwise {
        let choice = match verdict {
            b"A" => Some(Choice::A),
            b"B" => Some(Choice::B),
            _ => None,
        };
        choice.map(|choice| Outcome {
            choice: Some(choice),
            ..Outcome::default()
        })
    } else {
        let score = if options.answer_only {
            let (low, high) = ANSWER_ONLY_RANGE;
            Exact::parse_decimal(verdict).filter(|value| value.in_range(low, high))
        } else {
            parse_score(verdict)
        };
        score.map(|exact| Outcome {
            // `+ 0.0` turns -0.0 into 0.0.
            score: Some(exact.to_f64() + 0.0),
            exact: Some(exact),
            ..Outcome::default()
        })
    };
    valid.unwrap_or(Outcome {
        error: Some(FormatError::InvalidVerdict),
        ..Outcome::default()
    })
}

/// The verdict and error of one judgement, without section texts (no allocation).
/// Works on bytes so callers holding UTF-8 buffers (decoded tokens, Python bytes) need no copy.
pub fn parse_outcome(text: &[u8], options: ParseOptions) -> Outcome {
    if options.answer_only {
        return match scan_answer_only(text) {
            Ok(answer) => verdict_of(text.get(answer).unwrap_or_default(), options),
            Err(error) => Outcome {
                error: Some(error),
                ..Outcome::default()
            },
        };
    }
    match scan(text, options.think_in_prompt, None) {
        Ok(spans) => verdict_of(text.get(spans.answer).unwrap_or_default(), options),
        Err(error) => Outcome {
            error: Some(error),
            ..Outcome::default()
        },
    }
}

/// A judgement with its section texts (docs/method.md §3).
pub fn parse(text: &str, options: ParseOptions) -> Judgement<'_> {
    let mut rubric_spans = Vec::new();
    let section = |range: Range<usize>| text.get(range).map(python_strip);
    if options.answer_only {
        let answer = scan_answer_only(text.as_bytes()).ok();
        return Judgement {
            outcome: parse_outcome(text.as_bytes(), options),
            think: None,
            rubrics: Vec::new(),
            eval: None,
            answer: answer.and_then(section),
        };
    }
    match scan(
        text.as_bytes(),
        options.think_in_prompt,
        Some(&mut rubric_spans),
    ) {
        Ok(spans) => Judgement {
            outcome: verdict_of(
                text.as_bytes()
                    .get(spans.answer.clone())
                    .unwrap_or_default(),
                options,
            ),
            think: section(spans.think),
            rubrics: rubric_spans.into_iter().filter_map(section).collect(),
            eval: section(spans.eval),
            answer: section(spans.answer),
        },
        Err(error) => Judgement {
            outcome: Outcome {
                error: Some(error),
                ..Outcome::default()
            },
            think: None,
            rubrics: Vec::new(),
            eval: None,
            answer: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const POINTWISE: ParseOptions = ParseOptions {
        pairwise: false,
        think_in_prompt: false,
        answer_only: false,
    };
    const PAIRWISE: ParseOptions = ParseOptions {
        pairwise: true,
        think_in_prompt: false,
        answer_only: false,
    };
    const ANSWER_ONLY: ParseOptions = ParseOptions {
        pairwise: false,
        think_in_prompt: false,
        answer_only: true,
    };

    fn judgement(answer: &str) -> String {
        format!(
            "<think>reasoning</think>\n<generate_rubrics>r1</generate_rubrics>\
             <generate_rubrics>r2</generate_rubrics><eval>ok</eval><answer>{answer}</answer>"
        )
    }

    #[test]
    fn well_formed_pointwise() {
        let text = judgement(" 7.5\n");
        let j = parse(&text, POINTWISE);
        assert_eq!(j.outcome.score, Some(7.5));
        assert_eq!(j.outcome.exact, Exact::parse_decimal(b"7.5"));
        assert_eq!((j.outcome.choice, j.outcome.error), (None, None));
        assert_eq!(j.think, Some("reasoning"));
        assert_eq!(j.rubrics, vec!["r1", "r2"]);
        assert_eq!(j.eval, Some("ok"));
        assert_eq!(j.answer, Some("7.5"));
        assert_eq!(parse_outcome(text.as_bytes(), POINTWISE), j.outcome);
    }

    #[test]
    fn well_formed_pairwise() {
        assert_eq!(
            parse_outcome(judgement("B").as_bytes(), PAIRWISE).choice,
            Some(Choice::B)
        );
        assert_eq!(
            parse_outcome(judgement(" A ").as_bytes(), PAIRWISE).choice,
            Some(Choice::A)
        );
        for bad in ["a", "AB", "A.", "", "7"] {
            let o = parse_outcome(judgement(bad).as_bytes(), PAIRWISE);
            assert_eq!(o.error, Some(FormatError::InvalidVerdict), "{bad:?}");
        }
    }

    #[test]
    fn verdict_grammar() {
        for (text, want) in [
            ("0", 0.0),
            ("10", 10.0),
            ("+3", 3.0),
            ("-0", 0.0),
            ("-0.0", 0.0),
            (".5", 0.5),
            ("+.5", 0.5),
            ("007", 7.0),
            ("7.", 7.0),
            ("9.99", 9.99),
            ("10.000", 10.0),
        ] {
            let exact = parse_score(text.as_bytes());
            assert_eq!(exact.map(|e| e.to_f64()), Some(want), "{text:?}");
        }
        for text in [
            "", "-", "+", ".", "1e1", "inf", "nan", "NaN", "0x1", "10.0001", "-1", "11", "1,5",
            "7/10", "7 ", " 7", "٣", "１", "1_0", "--1", "+-1", "1.2.3", "+.", "-.",
        ] {
            assert_eq!(parse_score(text.as_bytes()), None, "{text:?}");
        }
        let zero = parse_outcome(judgement("-0").as_bytes(), POINTWISE).score;
        assert!(zero.unwrap().is_sign_positive());
    }

    #[test]
    fn verdict_is_stripped_as_python_strips() {
        for space in [
            "\u{1c}", "\u{1f}", "\u{85}", "\u{a0}", "\u{2028}", "\u{3000}", "\x0b",
        ] {
            let text = judgement(&format!("{space}7.{space}"));
            assert_eq!(
                parse_outcome(text.as_bytes(), POINTWISE).score,
                Some(7.0),
                "{space:?}"
            );
        }
        // Not whitespace for str.strip(): zero-width space, U+180E.
        for other in ["\u{200b}", "\u{180e}", "\u{feff}"] {
            let text = judgement(&format!("{other}7"));
            assert_eq!(
                parse_outcome(text.as_bytes(), POINTWISE).error,
                Some(FormatError::InvalidVerdict),
                "{other:?}"
            );
        }
    }

    #[test]
    fn scores_are_exact() {
        let outcome = parse_outcome(judgement("0.1").as_bytes(), POINTWISE);
        assert_eq!(outcome.exact, Exact::parse_decimal(b"0.1"));
        let long = format!("9.{}", "9".repeat(80));
        let outcome = parse_outcome(judgement(&long).as_bytes(), POINTWISE);
        assert_eq!(outcome.score, Some(10.0));
        assert!(outcome.exact.unwrap() < Exact::int(10));
    }

    #[test]
    fn tag_errors() {
        let missing_think =
            "<generate_rubrics>r</generate_rubrics><eval>e</eval><answer>5</answer>";
        let no_rubrics = "<think>t</think><eval>e</eval><answer>5</answer>";
        let repeated_answer = format!("{}<answer>5</answer>", judgement("5"));
        let nested = "<think><think>t</think></think><generate_rubrics>r</generate_rubrics>\
                      <eval>e</eval><answer>5</answer>";
        let swapped = "<think>t</think><generate_rubrics>r</generate_rubrics>\
                       <answer>5</answer><eval>e</eval>";
        let unclosed =
            "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>5";
        for text in [
            missing_think,
            no_rubrics,
            &repeated_answer,
            nested,
            swapped,
            unclosed,
            "",
            "5",
        ] {
            let j = parse(text, POINTWISE);
            assert_eq!(
                j.outcome.error,
                Some(FormatError::MissingOrMisorderedTags),
                "{text:?}"
            );
            assert_eq!(j.outcome.score, None);
            assert_eq!(j.think, None);
            assert!(j.rubrics.is_empty());
        }
    }

    #[test]
    fn other_tag_like_text_is_plain_text() {
        let text = "pre <Think> <think >< think><think>a<b <thinker></think>\
                    <generate_rubrics>x</generate_rubrics ></generate_rubrics>\
                    <eval>e</EVAL></eval> <answer>6</answer> trailing <answer";
        let j = parse(text, POINTWISE);
        assert_eq!(j.outcome.score, Some(6.0));
        assert_eq!(j.think, Some("a<b <thinker>"));
    }

    #[test]
    fn think_in_prompt() {
        let text = "reasoning</think><generate_rubrics>r</generate_rubrics><eval>e</eval>\
                    <answer>4</answer>";
        let opts = ParseOptions {
            think_in_prompt: true,
            ..POINTWISE
        };
        let j = parse(text, opts);
        assert_eq!(j.outcome.score, Some(4.0));
        assert_eq!(j.think, Some("reasoning"));
        assert_eq!(
            parse_outcome(text.as_bytes(), POINTWISE).error,
            Some(FormatError::MissingOrMisorderedTags)
        );
        // An own <think> under the option is a repeated tag.
        let own = format!("<think>{text}");
        assert_eq!(
            parse_outcome(own.as_bytes(), opts).error,
            Some(FormatError::MissingOrMisorderedTags)
        );
    }

    #[test]
    fn answer_only_reads_the_last_complete_answer_block() {
        let baseline = "The reply is accurate but brief. Rating follows.\n<answer> 7.5 </answer>";
        let j = parse(baseline, ANSWER_ONLY);
        assert_eq!(j.outcome.score, Some(7.5));
        assert_eq!(j.outcome.exact, Exact::parse_decimal(b"7.5"));
        assert_eq!(j.answer, Some("7.5"));
        assert_eq!((j.think, j.eval, j.rubrics.len()), (None, None, 0));
        assert_eq!(parse_outcome(baseline.as_bytes(), ANSWER_ONLY), j.outcome);
        // The PaTaRM parse refuses the same text: it has no think/rubric/eval blocks.
        assert_eq!(
            parse_outcome(baseline.as_bytes(), POINTWISE).error,
            Some(FormatError::MissingOrMisorderedTags)
        );
        for (text, want) in [
            ("<answer>3</answer> on reflection <answer>8</answer>", 8.0),
            ("<answer>3</answer> then <answer>unfinished", 3.0),
            ("<answer> <answer>6</answer>", 6.0),
            ("<answer>5</answer></answer>", 5.0),
            ("<think>t</think><eval><answer>9</answer>", 9.0),
            (&judgement("4"), 4.0),
        ] {
            assert_eq!(
                parse_outcome(text.as_bytes(), ANSWER_ONLY).score,
                Some(want),
                "{text:?}"
            );
        }
        for text in [
            "",
            "8",
            "</answer>8<answer>",
            "<answer>8",
            "<ANSWER>8</ANSWER>",
            "<answer >8</answer>",
        ] {
            assert_eq!(
                parse_outcome(text.as_bytes(), ANSWER_ONLY).error,
                Some(FormatError::MissingOrMisorderedTags),
                "{text:?}"
            );
            assert_eq!(parse(text, ANSWER_ONLY).answer, None);
        }
    }

    #[test]
    fn answer_only_verdicts_lie_in_one_to_ten() {
        let verdict =
            |v: &str| parse_outcome(format!("<answer>{v}</answer>").as_bytes(), ANSWER_ONLY);
        for (text, want) in [
            ("1", 1.0),
            ("10", 10.0),
            ("1.0", 1.0),
            ("+5", 5.0),
            ("9.99", 9.99),
        ] {
            assert_eq!(verdict(text).score, Some(want), "{text:?}");
        }
        for text in [
            "0",
            "0.999",
            "10.01",
            "-1",
            "[[5]]",
            "5/10",
            "Rating: 5",
            "1e1",
            "",
        ] {
            let outcome = verdict(text);
            assert_eq!(outcome.error, Some(FormatError::InvalidVerdict), "{text:?}");
            assert_eq!((outcome.score, outcome.exact), (None, None));
        }
        assert_eq!(format_reward(verdict("0").error), FORMAT_REWARD_VERDICT);
        // Pairwise answer-only: the last block holds A or B.
        let pairwise = ParseOptions {
            pairwise: true,
            ..ANSWER_ONLY
        };
        assert_eq!(
            parse_outcome(b"A is better. <answer>B</answer>", pairwise).choice,
            Some(Choice::B)
        );
        assert_eq!(
            parse_outcome(b"<answer>C</answer>", pairwise).error,
            Some(FormatError::InvalidVerdict)
        );
    }

    #[test]
    fn format_rewards_and_codes() {
        assert_eq!(format_reward(None), 0.0);
        assert_eq!(FormatError::MissingOrMisorderedTags.reward(), -1.5);
        assert_eq!(FormatError::InvalidVerdict.reward(), -1.0);
        for error in [
            FormatError::MissingOrMisorderedTags,
            FormatError::InvalidVerdict,
        ] {
            assert_eq!(ERROR_KINDS[error.code() as usize], Some(error.kind()));
        }
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        for text in [
            &b"<"[..],
            b"</",
            b"<\0",
            b"\xff\xfe<answer>",
            b"<think>\xff</think>",
            b"</generate_rubrics",
        ] {
            let _ = parse_outcome(text, POINTWISE);
        }
        let noise = "<think><".repeat(100_000);
        assert_eq!(
            parse(&noise, POINTWISE).outcome.error,
            Some(FormatError::MissingOrMisorderedTags)
        );
        let unicode = judgement("\u{3000}8\u{a0}");
        assert_eq!(parse(&unicode, POINTWISE).outcome.score, Some(8.0));
    }

    /// A reference implementation of R1-R4 that is obviously right: list every tag by
    /// trying each literal at each position, compare against the grammar as a string.
    fn reference(text: &str, pairwise: bool) -> Outcome {
        const TAGS: [&str; 8] = [
            "<think>",
            "</think>",
            "<generate_rubrics>",
            "</generate_rubrics>",
            "<eval>",
            "</eval>",
            "<answer>",
            "</answer>",
        ];
        let mut found = Vec::new();
        for i in 0..text.len() {
            for (k, tag) in TAGS.iter().enumerate() {
                if text.as_bytes()[i..].starts_with(tag.as_bytes()) {
                    found.push((k, i));
                }
            }
        }
        let kinds: Vec<usize> = found.iter().map(|&(k, _)| k).collect();
        let n = kinds.len();
        let ok = n >= 8
            && kinds[..2] == [0, 1]
            && kinds[n - 4..] == [4, 5, 6, 7]
            && (n - 6) % 2 == 0
            && kinds[2..n - 4].chunks(2).all(|c| c == [2, 3]);
        if !ok {
            return Outcome {
                error: Some(FormatError::MissingOrMisorderedTags),
                ..Outcome::default()
            };
        }
        let answer = &text[found[n - 2].1 + "<answer>".len()..found[n - 1].1];
        verdict_of(
            answer.as_bytes(),
            ParseOptions {
                pairwise,
                ..ParseOptions::default()
            },
        )
    }

    /// The answer-only rule, written the obvious way: every complete block is an `<answer>`
    /// with the first `</answer>` after it and no other `<answer>` in between; the last wins.
    fn answer_only_reference(text: &str) -> Outcome {
        let mut last = None;
        for (open, _) in text.match_indices("<answer>") {
            let start = open + "<answer>".len();
            if let Some(len) = text[start..].find("</answer>") {
                if !text[start..start + len].contains("<answer>") {
                    last = Some(&text[start..start + len]);
                }
            }
        }
        match last {
            Some(answer) => verdict_of(answer.as_bytes(), ANSWER_ONLY),
            None => Outcome {
                error: Some(FormatError::MissingOrMisorderedTags),
                ..Outcome::default()
            },
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<think>".to_string()),
            Just("</think>".to_string()),
            Just("<generate_rubrics>".to_string()),
            Just("</generate_rubrics>".to_string()),
            Just("<eval>".to_string()),
            Just("</eval>".to_string()),
            Just("<answer>".to_string()),
            Just("</answer>".to_string()),
            Just("<".to_string()),
            Just("</".to_string()),
            "[0-9. +-]{0,4}",
            "[AB \n]{0,2}",
            "\\PC{0,6}",
        ]
    }

    proptest! {
        #[test]
        fn matches_reference(pieces in proptest::collection::vec(piece(), 0..24), pairwise: bool) {
            let text: String = pieces.concat();
            let opts = ParseOptions { pairwise, ..ParseOptions::default() };
            prop_assert_eq!(parse_outcome(text.as_bytes(), opts), reference(&text, pairwise));
            prop_assert_eq!(parse(&text, opts).outcome, reference(&text, pairwise));
        }

        #[test]
        fn answer_only_matches_reference(pieces in proptest::collection::vec(piece(), 0..24)) {
            let text: String = pieces.concat();
            prop_assert_eq!(parse_outcome(text.as_bytes(), ANSWER_ONLY), answer_only_reference(&text));
            prop_assert_eq!(parse(&text, ANSWER_ONLY).outcome, answer_only_reference(&text));
        }

        #[test]
        fn well_formed_always_parses(
            think in "[^<]{0,20}", rubrics in proptest::collection::vec("[^<]{0,10}", 1..4),
            eval in "[^<]{0,10}", score in 0u32..=1000, noise in "[^<]{0,10}",
        ) {
            let blocks: String = rubrics.iter().map(|r| format!("<generate_rubrics>{r}</generate_rubrics>{noise}")).collect();
            let value = f64::from(score) / 100.0;
            let text = format!("{noise}<think>{think}</think>{blocks}<eval>{eval}</eval><answer> {value} </answer>{noise}");
            let j = parse(&text, POINTWISE);
            prop_assert_eq!(j.outcome.score, Some(value));
            prop_assert_eq!(j.rubrics.len(), rubrics.len());
            prop_assert_eq!(j.think, Some(python_strip(&think)));
        }

        #[test]
        fn less_than_positions_match_a_byte_loop(bytes in proptest::collection::vec(
            prop_oneof![Just(b'<'), any::<u8>()], 0..600)) {
            let fast: Vec<usize> = less_thans(&bytes).collect();
            let plain: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'<').collect();
            prop_assert_eq!(fast, plain);
        }

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_outcome(&bytes, POINTWISE);
            let _ = parse_outcome(&bytes, ParseOptions { pairwise: true, think_in_prompt: true, answer_only: false });
            let _ = parse_outcome(&bytes, ANSWER_ONLY);
        }
    }
}
