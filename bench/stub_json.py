#!/usr/bin/env python3
"""Print the stub upstream's fixed Chat Completions response, escaped for a single-quoted
nginx string. `notes` answers the reasoning stage, `reply` the expression stage."""
import json
import sys

NOTES = (
    "The user asks how to read a file in Rust. Key facts: std::fs::read_to_string reads a "
    "whole UTF-8 file into a String and returns io::Result<String>. For large inputs, open "
    "the file with std::fs::File::open, wrap it in std::io::BufReader and iterate over "
    "lines(). Errors propagate with the question mark operator from a function that returns "
    "io::Result. std::fs::read gives raw bytes. Keep the answer short, with one example."
)

REPLY = (
    "The simplest way is `std::fs::read_to_string`, which loads the whole file into a "
    "`String`:\n\n"
    "```rust\nuse std::fs;\n\nfn main() -> std::io::Result<()> {\n"
    "    let text = fs::read_to_string(\"notes.txt\")?;\n"
    "    println!(\"{}\", text);\n    Ok(())\n}\n```\n\n"
    "For big files, open it with `File::open` and go through it line by line with a "
    "`BufReader`, so the whole file never has to sit in memory. If you need raw bytes "
    "rather than text, use `fs::read` instead."
)


def completion(content: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "bench-stub",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 110, "total_tokens": 230},
        },
        separators=(",", ":"),
    )


def main() -> None:
    text = completion({"notes": NOTES, "reply": REPLY}[sys.argv[1]])
    if "$" in text:
        sys.exit("stub text must not contain '$' (nginx would expand it)")
    # nginx unescapes \\ \" \' \t \r \n inside quoted strings; keep JSON escapes intact.
    print(text.replace("\\", "\\\\").replace("'", "\\'"))


if __name__ == "__main__":
    main()
