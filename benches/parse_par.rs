//! Criterion benches of the judgement parser and PAR: one ~3.5 KB judgement, a batch of 16,384
//! (score_batch's Rust path, 8 judgements per side of 1,024 pairs), next to a plain memchr
//! count of '<' over the same bytes (the limit of any scan).
//!
//!     cargo bench --bench parse_par
//!
//! The group "scan for '<'" sets the positions of the `<`s (memchr, the parser's scan) beside the
//! full parse, on realistic judgements and on '<'-dense ones (code and maths: a `<` every ~5
//! bytes), where the tag check dominates. (Commit f3634ba ran the same group against a
//! hand-written SSE2 scan: docs/benchmarks.md.)
//!
//!     cargo bench --bench parse_par -- "scan for"

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

use patarm::batch::{parse_outcomes, score_pointwise, PairId, PairKey};
use patarm::par::{pair_rewards, Side};
use patarm::parse::{parse, parse_outcome, ParseOptions};
use patarm::shape::Shape;

const WORDS: &[&str] = &[
    "the",
    "response",
    "answers",
    "question",
    "clearly",
    "correct",
    "step",
    "reasoning",
    "because",
    "however",
    "detail",
    "rubric",
    "usefulness",
    "structure",
    "example",
    "missing",
    "accurate",
    "relevant",
    "claim",
    "evidence",
    "user",
    "asked",
    "explains",
    "formula",
    "result",
    "if",
    "a",
    "<",
    "b",
];

/// Deterministic pseudo-random prose of about `size` bytes.
fn prose(state: &mut u64, size: usize) -> String {
    let mut text = String::with_capacity(size + 16);
    while text.len() < size {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str(WORDS[(*state >> 33) as usize % WORDS.len()]);
        text.push(' ');
    }
    text
}

fn judgement(state: &mut u64, score: f64) -> String {
    format!(
        "<think>\n{}\n</think>\n<generate_rubrics>\n{}\n</generate_rubrics>\n<generate_rubrics>\n{}\n\
         </generate_rubrics>\n<eval>\n{}\n</eval>\n<answer>{score}</answer>",
        prose(state, 2600),
        prose(state, 160),
        prose(state, 160),
        prose(state, 450)
    )
}

/// A judgement whose prose is '<'-dense: comparisons and generics, `<` about every 6 bytes.
fn dense_judgement(state: &mut u64) -> String {
    const CODE: &[&str] = &["a<b", "i<n", "x <= y", "Vec<u8>", "0<x<1", "if", "<", "k"];
    let mut text = String::new();
    while text.len() < 3000 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str(CODE[(*state >> 33) as usize % CODE.len()]);
        text.push(' ');
    }
    format!(
        "<think>\n{text}\n</think>\n<generate_rubrics>\nr\n</generate_rubrics>\n\
         <eval>\n{text}\n</eval>\n<answer>6</answer>"
    )
}

fn bench_less_thans(c: &mut Criterion) {
    let mut state = 11u64;
    let realistic: Vec<String> = (0..4096)
        .map(|k| judgement(&mut state, 3.0 + (k % 8) as f64 * 0.5))
        .collect();
    let dense: Vec<String> = (0..1024).map(|_| dense_judgement(&mut state)).collect();
    let options = ParseOptions::default();
    for text in realistic.iter().chain(&dense) {
        assert!(parse_outcome(text.as_bytes(), options).error.is_none());
    }
    let mut group = c.benchmark_group("scan for '<'");
    group.sample_size(20);
    for (name, texts) in [
        ("4,096 realistic judgements", &realistic),
        ("1,024 '<'-dense judgements", &dense),
    ] {
        let total: u64 = texts.iter().map(|t| t.len() as u64).sum();
        let less_thans: usize = texts.iter().map(|t| t.matches('<').count()).sum();
        eprintln!("{name}: {total} bytes, {less_thans} '<'");
        group.throughput(Throughput::Bytes(total));
        group.bench_function(format!("{name}: positions, memchr"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| memchr::memchr_iter(b'<', black_box(t.as_bytes())).sum::<usize>())
                    .sum::<usize>()
            })
        });
        group.bench_function(format!("{name}: parse_outcome"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| parse_outcome(black_box(t.as_bytes()), options))
                    .filter(|o| o.error.is_none())
                    .count()
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let mut state = 7u64;
    let one = judgement(&mut state, 7.5);
    let pairs = 1024usize;
    let per_side = 8usize;
    let mut texts = Vec::new();
    let mut keys = Vec::new();
    let mut sides = Vec::new();
    for pair in 0..pairs {
        for (side, score) in [(Side::Chosen, 7.0), (Side::Rejected, 4.5)] {
            for k in 0..per_side {
                texts.push(judgement(&mut state, score + k as f64 * 0.25));
                keys.push(PairKey {
                    source: "patarm/chat",
                    id: PairId::Int(pair as i64),
                });
                sides.push(side);
            }
        }
    }
    let total: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let options = ParseOptions::default();

    let mut single = c.benchmark_group("one judgement (~3.5 KB)");
    single.throughput(Throughput::Bytes(one.len() as u64));
    single.bench_function("parse_outcome", |b| {
        b.iter(|| parse_outcome(black_box(one.as_bytes()), options))
    });
    single.bench_function("parse (with sections)", |b| {
        b.iter(|| parse(black_box(&one), options).outcome)
    });
    single.bench_function("memchr count '<'", |b| {
        b.iter(|| memchr::memchr_iter(b'<', black_box(one.as_bytes())).count())
    });
    single.finish();

    let mut batch = c.benchmark_group("16,384 judgements");
    batch.throughput(Throughput::Bytes(total));
    batch.sample_size(20);
    for threads in [1usize, 2] {
        batch.bench_function(format!("parse_outcomes, {threads} thread(s)"), |b| {
            b.iter(|| parse_outcomes(black_box(&texts), options, Some(threads)))
        });
        batch.bench_function(format!("score_pointwise, {threads} thread(s)"), |b| {
            b.iter(|| {
                score_pointwise(
                    black_box(&texts),
                    &keys,
                    &sides,
                    false,
                    Some(&Shape::default()),
                    Some(threads),
                )
            })
        });
    }
    batch.bench_function("memchr count '<', 1 thread", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| memchr::memchr_iter(b'<', black_box(t.as_bytes())).count())
                .sum::<usize>()
        })
    });
    batch.finish();

    let outcomes: Vec<_> = texts[..16]
        .iter()
        .map(|t| parse_outcome(t.as_bytes(), options))
        .collect();
    let mut par = c.benchmark_group("PAR");
    par.bench_function("pair_rewards, 8 + 8 judgements", |b| {
        b.iter_batched(
            || outcomes.clone(),
            |o| pair_rewards(&o[..8], &o[8..], &Shape::default()),
            BatchSize::SmallInput,
        )
    });
    par.finish();
}

criterion_group!(benches, bench, bench_less_thans);
criterion_main!(benches);
