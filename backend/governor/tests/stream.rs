//! Streaming equivalence and bounds, naughty strings, latency.
use super::*;

const STREAM_DRAFTS: &[&str] = &[
    "Hello! <think>plan. more plan</think>The answer: 42. See [docs](https://docs.rs/x?a=1&b=2) and ![img](https://evil.net/i.png).\n\n- item one\n- item two",
    "Key sk-abcdefghijklmnopqrstuvwxyz123456 here. <b>Bold</b> & <script>evil()</script> text. 👩\u{200D}💻 ok\u{200B}.",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----\nAfter key. <|channel|>analysis<|message|>x<|end|>Final.",
    "Unterminated [link text that goes on. and on](https://evil.net/?q=1 \"t\") done. <reasoning>hidden",
    "こんにちは。世界！ Ünïcödé sentence. Another one? Yes! <a href=\"https://docs.rs\">docs</a>",
];

fn streamed(g: &Governor, draft: &str, chunk_chars: usize) -> Result<String, Refusal> {
    let chars: Vec<char> = draft.chars().collect();
    let mut stream = g.output_stream("");
    let mut out = String::new();
    for chunk in chars.chunks(chunk_chars) {
        out.push_str(&stream.push(&chunk.iter().collect::<String>()));
    }
    out.push_str(&stream.finish()?);
    Ok(out)
}

#[test]
fn streaming_in_any_chunk_size_matches_whole_reply_governance() {
    let long = format!("{} end. {}", "word ".repeat(300), "x".repeat(900));
    let g = governor_with(&["docs.rs"], &[], 4000);
    let capped = governor_with(&["docs.rs"], &[], 50);
    for draft in STREAM_DRAFTS.iter().copied().chain([long.as_str()]) {
        for g in [&g, &capped] {
            let whole = g.govern_output(draft, "").map(|r| r.text);
            assert!(whole.is_ok(), "{draft}");
            for size in [1, 3, 7, 64] {
                assert_eq!(
                    streamed(g, draft, size),
                    whole,
                    "chunk size {size}: {draft}"
                );
            }
        }
    }
}

#[test]
fn stream_emits_text_before_the_reply_ends() {
    let g = governor();
    let mut stream = g.output_stream("");
    let second = "Second sentence is longer, and it goes on for a while, long enough to be \
                  more than the lookahead of every stage, which is the parse's lookahead \
                  plus the word and the secret held back, before it finally ends. ";
    let first = stream.push(&format!("First sentence. {second}"));
    assert_eq!(first, "First sentence. ");
    let rest = stream.push("Third.\n");
    let end = stream.finish();
    assert_eq!(
        end.as_ref().map(|end| format!("{rest}{end}")),
        Ok(format!("{second}Third."))
    );
}

#[test]
fn stream_holds_back_a_bounded_window() {
    let g = governor_with(&[], &[], 1_000_000);
    let mut stream = g.output_stream("");
    let mut emitted = 0;
    let mut pushed = 0;
    for _ in 0..400 {
        emitted += stream.push("lorem ipsum dolor sit amet ").len();
        pushed += 27;
        assert!(
            pushed - emitted <= 512 + 27,
            "held back {}",
            pushed - emitted
        );
    }
}

fn naughty_strings() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpora/blns.txt");
    let corpus = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn naughty_strings_never_panic_or_yield_executable_output() {
    let g = governor_with(&["example.com"], &["Sup3r-S3cret-Token-Value"], 2000);
    let lines = naughty_strings();
    assert!(lines.len() > 400);
    for line in &lines {
        if let Ok(input) = g.govern_input(line) {
            assert!(!input.text.trim().is_empty(), "{line:?}");
        }
        let whole = g.govern_output(line, "").map(|r| r.text);
        assert_eq!(streamed(&g, line, 3), whole, "{line:?}");
        let whole = whole.unwrap_or_else(|refusal| panic!("{line:?} refused: {refusal:?}"));
        assert_inert(&whole, line);
    }
    // All lines at once, as one long reply.
    let all = lines.join("\n");
    let out = g
        .govern_output(&all, "")
        .unwrap_or_else(|refusal| panic!("refused: {refusal:?}"));
    assert_inert(&out.text, "all lines");
}

/// Parsed as CommonMark + GFM, the reply holds no HTML, no image and no link except to
/// the allowlisted host. (The renderer suite in tests/render checks the same with
/// markdown-it, marked and remark.)
fn assert_inert(reply: &str, from: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(reply, options) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                panic!("HTML {html:?} in {reply:?} from {from:?}")
            }
            Event::Start(Tag::Image { .. }) => panic!("image in {reply:?} from {from:?}"),
            Event::Start(Tag::Link { dest_url, .. }) => assert!(
                dest_url.starts_with("https://example.com/")
                    || dest_url.starts_with("http://example.com/"),
                "link to {dest_url:?} in {reply:?} from {from:?}"
            ),
            _ => {}
        }
    }
}

/// Every reply of the render corpora (tests/corpora/render), streamed in random chunkings
/// and one character at a time, governs to exactly what the whole reply governs to.
#[test]
fn any_chunking_of_the_render_corpora_governs_to_the_whole_reply() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let g = governor_with(&["docs.example.com"], &["Sup3r-S3cret-Token-Value"], 4000);
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut tried = 0;
    for file in ["benign.json", "hostile.json"] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpora/render/").to_owned() + file;
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let corpus: serde_json::Value = serde_json::from_str(&text).expect("corpus is JSON");
        let cases = corpus["cases"].as_array().expect("cases");
        for case in cases {
            let draft = case["reply"].as_str().expect("reply");
            let notes = case["notes"].as_str().unwrap_or_default();
            let whole = g.govern_output(draft, notes).map(|r| r.text);
            let chars: Vec<char> = draft.chars().collect();
            for round in 0..4 {
                let mut stream = g.output_stream(notes);
                let mut out = String::new();
                let mut at = 0;
                while at < chars.len() {
                    let size = if round == 0 { 1 } else { rng.gen_range(1..=48) };
                    let end = (at + size).min(chars.len());
                    out.push_str(&stream.push(&chars[at..end].iter().collect::<String>()));
                    at = end;
                }
                let streamed = stream.finish().map(|rest| out + &rest);
                assert_eq!(streamed, whole, "{} (round {round})", case["name"]);
                tried += 1;
            }
        }
    }
    assert!(tried > 1000, "{tried}");
}

/// A long configured secret does not hold ordinary text back: only a tail that could be
/// its beginning waits.
#[test]
fn a_long_configured_secret_holds_back_only_what_could_begin_it() {
    let secret = format!("postgres://app:{}@db.internal:6543/app", "p".repeat(180));
    let g = governor_with(&[], &[secret.as_str()], 4000);
    let mut stream = g.output_stream("");
    let first = stream.push("The first sentence is here. And the second one is on its way ");
    assert_eq!(first, "The first sentence is here. ");
    let held = stream.push("with the value postgres://app:ppp");
    assert!(!held.contains("postgres"), "{held:?}");
    let rest = stream.push(&format!("{}@db.internal:6543/app in it.", "p".repeat(177)));
    let end = stream.finish().expect("not refused");
    let whole = format!("{first}{held}{rest}{end}");
    assert!(!whole.contains("ppp"), "{whole}");
    assert!(whole.contains("\\[redacted\\]"), "{whole}");
}

/// Replies full of fenced code: long blocks, blocks that close and reopen, fences that are
/// not fences (indented, too short, info strings with backticks), lines that look like
/// closers, carriage returns, tabs, code that echoes the prompts or holds a secret, and
/// sentence ends, brackets and pipes inside code.
fn code_heavy_replies() -> Vec<String> {
    let line = |i: usize| {
        match i % 9 {
        0 => format!("let x{i} = vec![{i}, {i}]; // see [docs](https://evil.net/{i})"),
        1 => format!("println!(\"Done. Next {i}? Yes! Go.\");"),
        2 => "    if a | b { return `c`; } <div>".to_owned(),
        3 => String::new(),
        4 => "\tindented with a tab ~~ and `` two ticks".to_owned(),
        5 => " ``` not a closer when the fence is longer".to_owned(),
        6 => format!("secret = \"Sup3r-S3cret-Token-Value\" # {i}"),
        7 => "You are the planning stage of a governed assistant. You write private planning notes for a separate writer model".to_owned(),
        _ => format!("{i}. a list-like line | with | pipes |"),
    }
    };
    let block = |fence: &str, info: &str, lines: std::ops::Range<usize>| {
        let body: Vec<String> = lines.map(line).collect();
        format!("{fence}{info}\n{}\n{fence}\n", body.join("\n"))
    };
    vec![
        format!("Intro.\n\n{}\nAfter.", block("```", "rust", 0..40)),
        format!("{}{}", block("~~~~", " a`b", 0..30), block("```", "", 10..25)),
        format!("\n\n{}", block("```", "", 0..18).trim_end_matches("```\n")),
        format!("Text\n{}text after", block("````", "py", 0..27)),
        format!(" ```\n{}\n```\n", (0..12).map(line).collect::<Vec<_>>().join("\n")),
        format!("```a`b\n{}\n```\n", (0..12).map(line).collect::<Vec<_>>().join("\n")),
        format!("```\r\n{}\r\n```\r\n", (0..12).map(line).collect::<Vec<_>>().join("\r\n")),
        format!("- item\n\n  ```\n{}\n  ```\n", (0..12).map(line).collect::<Vec<_>>().join("\n  ")),
        format!("> ```\n> {}\n> ```\n", (0..12).map(line).collect::<Vec<_>>().join("\n> ")),
        format!("```\n{}", "x".repeat(700)),
        format!("```\n{}\n```", "word. ".repeat(120)),
        // A sentence end inside a code line with openers, before an echo of the prompts:
        // a cut there would withhold less.
        format!(
            "```\nlet y = `x`. You are the planning stage of a governed assistant. You write private planning notes\n{}\n```\n",
            ["let z = `a`. Ordinary words of an ordinary program, nothing more to see here"; 6].join("\n")
        ),
        // An unclosed block whose last lines, left to the end of the reply, would read as
        // links and HTML if the block were forgotten before them.
        format!(
            "```\n{}\n{}",
            [0, 1, 2, 3, 4, 6, 7].map(line).join("\n"),
            ["[a](https://evil.net) <b>x</b> `c`"; 4].join("\n")
        ),
    ]
}

/// Lines inside a fenced code block skip the parse (`markdown/fence.rs`); in every
/// chunking, that governs every code-heavy reply exactly as parsing every region does.
#[test]
fn code_lines_govern_the_same_with_and_without_the_parse() {
    // A configured secret that ends in line breaks is whole only in contents that keep
    // exactly the parse's line breaks.
    let line_secret = "secret-line-ending\n\n";
    let governors = [
        governor_with(&["docs.rs"], &["Sup3r-S3cret-Token-Value"], 8000),
        governor_with(&[], &[line_secret], 8000),
    ];
    let notes = "- the user wants a loop\n- show a short example";
    let governed = |g: &Governor, draft: &str, size: usize, parse: bool| {
        let mut stream = g.output_stream(notes);
        if parse {
            stream = stream.parse_every_region();
        }
        let chars: Vec<char> = draft.chars().collect();
        let mut out = String::new();
        for chunk in chars.chunks(size) {
            out.push_str(&stream.push(&chunk.iter().collect::<String>()));
        }
        stream.finish().map(|rest| out + &rest)
    };
    let mut withheld = 0;
    let mut drafts = code_heavy_replies();
    drafts.push(format!(
        "```\n{}\nmore code\n{}\n```\n",
        line_secret.trim_end(),
        "x = 1\n".repeat(30)
    ));
    for g in &governors {
        for draft in &drafts {
            let whole = governed(g, draft, draft.len().max(1), true);
            withheld += whole
                .as_ref()
                .map_or(0, |t| t.matches(markdown::WITHHELD).count());
            for size in [1, 5, 64, draft.len().max(1)] {
                assert_eq!(
                    governed(g, draft, size, false),
                    whole,
                    "chunk size {size}: {draft:?}"
                );
            }
        }
    }
    assert!(
        withheld > 0,
        "some code line echoed the prompts and was withheld"
    );
}
