"""Prints the first fenced code block of a language under a README heading.

    python3 readme_block.py README.md "## Rust quick start" rust
"""

import sys


def block(text: str, heading: str, lang: str) -> str:
    start = text.index(heading + "\n")
    rest = text[start:].split("\n")
    out, inside = [], False
    for line in rest[1:]:
        if not inside and line.startswith("## "):
            break
        if not inside and line.strip() == "```" + lang:
            inside = True
        elif inside and line.strip() == "```":
            return "\n".join(out) + "\n"
        elif inside:
            out.append(line)
    raise SystemExit(f"no ```{lang} block under {heading!r}")


if __name__ == "__main__":
    path, heading, lang = sys.argv[1:4]
    with open(path, encoding="utf-8") as f:
        sys.stdout.write(block(f.read(), heading, lang))
