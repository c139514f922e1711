"""Every code block of README.md and docs/*.md runs, as written.

Per page, the blocks run in document order, in one namespace and one scratch folder (with the
repository's examples/ linked in), so a block may use what an earlier block of the same page
defined or wrote, and nothing else:
- ```python blocks are executed;
- ```bash blocks must consist of `patarm ...` command lines, each run through the CLI and
  expected to exit 0;
- a block that cannot run here (a GPU, a framework, the network, an install) is preceded by
  `<!-- snippet: skip (the reason) -->`; a block that talks to a judge server is preceded by
  `<!-- snippet: needs judge-server -->`, and its http://localhost:8000/v1 is pointed at the
  tests' loopback chat-completions server (tests/chat_server.py), which answers every prompt
  with well-formed judgements;
- other languages (```text, ```json, ...) are data and outputs, not code; a fence without a
  language is an error.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from chat_server import ChatServer, judgement

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS_URL = "http://localhost:8000/v1"
RUNNABLE = ("python", "bash")
MARKER = re.compile(r"<!--\s*snippet:\s*(?P<body>.*?)\s*-->")
SKIP = re.compile(r"skip \((?P<reason>[^)]*\S[^)]*)\)")
NEEDS_SERVER = "needs judge-server"


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    marker: str | None  # the text of the snippet comment right before the block

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def page_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with the snippet comment (if any) on the last
    non-blank line before each opening fence."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent, language, start = fence.group(1), fence.group(2), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        assert end is not None, f"{path.name}:{start + 1}: code fence never closed"
        body = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in lines[start + 1 : end])
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.fullmatch(before)
        blocks.append(
            Block(
                path.relative_to(ROOT).as_posix(),
                start + 1,
                language,
                body + "\n",
                marker.group("body") if marker else None,
            )
        )
        i = end + 1
    return blocks


def cli_commands(block: Block, code: str) -> list[list[str]]:
    commands = []
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] == "patarm", (
            f"{block.where}: `{line.strip()}` is not a `patarm` command; run only patarm commands in "
            f"unmarked bash blocks, or put `<!-- snippet: skip (why it cannot run in CI) -->` before the block"
        )
        commands.append(words[1:])
    return commands


ALL_BLOCKS = [block for page in PAGES for block in page_blocks(page)]


def test_pages_have_runnable_blocks():
    # The runner must see the pages' code: a regression in the fence parser would pass vacuously.
    assert {p.name for p in PAGES} >= {"README.md", "index.md", "method.md", "workflow.md", "troubleshooting.md"}
    ran = [b for b in ALL_BLOCKS if b.language in RUNNABLE and b.marker is None]
    assert len({b.page for b in ran}) >= 8 and len(ran) >= 25


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.where)
def test_block_is_labelled_and_marked_with_a_reason(block):
    assert block.language, f"{block.where}: a code fence needs a language (python, bash, text, ...)"
    if block.marker is None:
        return
    assert block.language in RUNNABLE, f"{block.where}: snippet markers only apply to python and bash blocks"
    if block.marker == NEEDS_SERVER:
        assert DOCS_URL in block.code, f"{block.where}: marked {NEEDS_SERVER!r} but does not use {DOCS_URL}"
    else:
        assert SKIP.fullmatch(block.marker), (
            f"{block.where}: unknown snippet marker {block.marker!r}; use 'skip (the reason)' or {NEEDS_SERVER!r}"
        )


@pytest.fixture(scope="module")
def judge_server():
    # Pairwise prompts get A/B verdicts; every other prompt well-formed scores 8, 6, 7, 9 in turn.
    rules = [
        {"match": "Response B:", "judgements": [judgement("A"), judgement("B"), judgement("A")]},
        {"match": "", "judgements": [judgement(8), judgement(6), judgement(7), judgement(9)]},
    ]
    with ChatServer(rules) as server:
        yield server


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_snippets_run(page, tmp_path, monkeypatch, request):
    from patarm.workflow.cli import main

    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_snippet__"}
    blocks = [b for b in page_blocks(page) if b.language in RUNNABLE]
    for block in blocks:
        if block.marker is not None and block.marker != NEEDS_SERVER:
            continue
        code = block.code
        if block.marker == NEEDS_SERVER:
            code = code.replace(DOCS_URL, request.getfixturevalue("judge_server").url)
        else:
            assert DOCS_URL not in code, f"{block.where}: uses a judge server: mark it {NEEDS_SERVER!r}"
        if block.language == "python":
            # Line numbers in tracebacks point into the page.
            exec(compile("\n" * block.line + code, block.page, "exec"), namespace)
        else:
            for argv in cli_commands(block, code):
                assert main(argv) == 0, f"{block.where}: patarm {shlex.join(argv)} failed"


def test_readme_links_resolve():
    # README links into docs/ (GitHub renders them; mkdocs --strict checks only the pages themselves).
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+\.md)(?:#([^)\s]+))?\)", text)
    assert len({target for target, _ in links}) >= 10
    for target, anchor in links:
        path = ROOT / target
        assert path.is_file(), f"README.md links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+\s+(.*)$", path.read_text(encoding="utf-8"), flags=re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"README.md links to {target}#{anchor}: no such heading"
