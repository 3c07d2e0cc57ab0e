"""The manual stays true: README.md and docs/*.md link to what exists and name real targets and verbs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
README_MAX_LINES = 250

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
MAKE = re.compile(r"\bmake\s+([A-Za-z0-9_.-]+)")
BATON = re.compile(r"(?<![\w./-])baton\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")
MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", re.MULTILINE)


def rel(path: Path) -> str:
    """A path as the messages print it: relative to the repository."""
    return str(path.relative_to(ROOT))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces become '-'."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file, with GitHub's -1, -2 suffixes for repeats."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(path):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def numbered(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line number, line, inside a fenced code block) for every line of a file."""
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        yield number, line, fenced


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Lines outside fenced code blocks."""
    for number, line, fenced in numbered(path):
        if not fenced:
            yield number, line


def code_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Code as written: whole lines of fenced blocks, and each code span of the prose."""
    for number, line, fenced in numbered(path):
        if fenced:
            yield number, line
        else:
            for match in CODE_SPAN.finditer(line):
                yield number, match.group(2)


def broken_link(source: Path, target: str) -> str | None:
    """Why a relative link from source does not resolve, or None when it does."""
    file_part, _, anchor = target.partition("#")
    destination = (source.parent / file_part).resolve() if file_part else source
    if not destination.exists():
        return f"{rel(destination) if destination.is_relative_to(ROOT) else destination} is missing"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
        return f"no heading with anchor #{anchor} in {rel(destination)}"
    return None


def make_targets() -> set[str]:
    """The targets the Makefile defines."""
    return set(MAKE_TARGET.findall((ROOT / "Makefile").read_text(encoding="utf-8")))


def cli_commands() -> dict[str, set[str]]:
    """The `baton` verbs, each with its subcommands (empty for a plain command)."""
    from baton_cli.app import app

    group = typer.main.get_command(app)
    return {
        name: set(getattr(command, "commands", {}) or {})
        for name, command in group.commands.items()  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_relative_link_resolves_to_a_file_and_heading(doc: Path) -> None:
    problems = []
    for number, line in prose_lines(doc):
        for match in LINK.finditer(line):
            target = match.group(1)
            if re.match(r"^(https?:|mailto:)", target):
                continue
            reason = broken_link(doc, target)
            if reason:
                problems.append(f"{rel(doc)}:{number}: link ({target}): {reason}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_make_target_named_exists_in_the_makefile(doc: Path) -> None:
    targets = make_targets()
    problems = [
        f"{rel(doc)}:{number}: `make {name}` is not a target of the Makefile"
        for number, code in code_lines(doc)
        for name in MAKE.findall(code)
        if name not in targets
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_baton_verb_named_is_a_command_of_the_cli(doc: Path) -> None:
    commands = cli_commands()
    problems = []
    for number, code in code_lines(doc):
        for verb, sub in BATON.findall(code):
            if verb not in commands:
                problems.append(f"{rel(doc)}:{number}: `baton {verb}` is not a command of the CLI")
            elif commands[verb] and sub and sub not in commands[verb]:
                problems.append(
                    f"{rel(doc)}:{number}: `baton {verb} {sub}` is not a subcommand of "
                    f"`baton {verb}` (it has {', '.join(sorted(commands[verb]))})"
                )
    assert not problems, "\n".join(problems)


def test_readme_is_a_front_door_of_at_most_250_lines() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md: {lines} lines, more than {README_MAX_LINES}; move detail into docs/"
    )


def test_slugs_follow_githubs_rules() -> None:
    assert slug("Rerun: `baton rerun`") == "rerun-baton-rerun"
    assert slug("The operator verbs (`baton ...`)") == "the-operator-verbs-baton-"
    assert slug("The real data's quirks, and how each is handled") == (
        "the-real-datas-quirks-and-how-each-is-handled"
    )
    assert slug("Speed and memory (`make bench`)") == "speed-and-memory-make-bench"
