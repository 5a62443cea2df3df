#!/usr/bin/env python3
"""Builds the policy evaluation corpus from tests/corpora/policy/sources/.

Writes tests/corpora/policy/tune.jsonl and heldout.jsonl. Every case goes to exactly one
part, decided by a hash of its class and text (about 30% held back), so the split is
stable when cases are added. Standard library only; run from the repository root:

    python3 scripts/policy_corpus.py

Source formats:
  * <class>.txt: one case per line (written for this project, MIT). In authority_mode.txt
    a leading "[inj] " marks a case whose category is prompt injection, not extraction.
  * persona_long.txt: long cases separated by lines holding only "---".
  * benign_strings: every string of tests/corpora/blns.txt, the Big List of Naughty
    Strings (minimaxir/big-list-of-naughty-strings, MIT, see tests/corpora/blns.LICENSE),
    read as tests/abuse reads it: comment ("#") and empty lines skipped, each line kept
    exactly (no whitespace stripped), since odd whitespace is what some of them test.
"""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "corpora" / "policy"
SOURCES = ROOT / "sources"
OWN = "written for this project, MIT"
BLNS = ROOT.parent / "blns.txt"
BLNS_SOURCE = "minimaxir/big-list-of-naughty-strings (MIT), tests/corpora/blns.txt"

# class -> category reported when refused (None: benign, must be accepted)
CLASSES = {
    "direct_injection": "policy.prompt_injection",
    "extraction": "policy.system_prompt_extraction",
    "reveal_paraphrase": "policy.system_prompt_extraction",
    "reveal_transformation": "policy.system_prompt_extraction",
    "authority_mode": "policy.system_prompt_extraction",
    "persona_jailbreak": "policy.prompt_injection",
    "persona_long": "policy.prompt_injection",
    "service_secrets": "policy.system_prompt_extraction",
    "benign_lookalike": None,
    "benign_general": None,
    "benign_strings": None,
}
HELD_BACK_PERCENT = 30


def held_back(cls, text):
    digest = hashlib.sha256(f"{cls}\n{text}".encode()).digest()
    return digest[0] * 100 < HELD_BACK_PERCENT * 256


def cases():
    for cls, category in CLASSES.items():
        if cls == "benign_strings":
            continue
        path = SOURCES / f"{cls}.txt"
        raw = path.read_text(encoding="utf-8")
        if cls == "persona_long":
            texts = [block.strip() for block in raw.split("\n---\n")]
        else:
            texts = [line.strip() for line in raw.splitlines()]
        for text in filter(None, texts):
            case_category = category
            if text.startswith("[inj] "):
                text, case_category = text[len("[inj] "):], "policy.prompt_injection"
            yield {"text": text, "class": cls, "category": case_category, "source": OWN}
    for line in BLNS.read_bytes().decode("utf-8").split("\n"):
        text = line.removesuffix("\r")
        if text and not text.startswith("#"):
            yield {"text": text, "class": "benign_strings", "category": None, "source": BLNS_SOURCE}

def main():
    parts = {"tune": [], "heldout": []}
    seen = set()
    for case in cases():
        if case["text"] in seen:
            continue
        seen.add(case["text"])
        parts["heldout" if held_back(case["class"], case["text"]) else "tune"].append(case)
    for name, rows in parts.items():
        with open(ROOT / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    for name, rows in parts.items():
        counts = {}
        for row in rows:
            counts[row["class"]] = counts.get(row["class"], 0) + 1
        print(name, len(rows), dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
