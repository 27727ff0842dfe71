#!/usr/bin/env python3
"""Compiles the C++ snippets of one Markdown page, so the docs cannot drift from the headers.

    check_snippets.py PAGE.md --repo DIR --cxx COMPILER [--include DIR]... [--define D]...

A ```cmake block marked `<!-- snippet: from PATH -->` must appear verbatim in PATH too.

Every ```cpp block of the page must be preceded (on the line right above its fence) by a marker
saying how to check it:

    <!-- snippet: file -->                 a whole translation unit, compiled on its own
    <!-- snippet: decl -->                 declarations (models, helpers) at namespace scope
    <!-- snippet: function(PARAMS) -->     statements, wrapped in `void f(PARAMS) { ... }`
    <!-- snippet: coroutine(PARAMS) -->    statements, wrapped in
                                           `boost::asio::awaitable<void> f(PARAMS) { ... }`
    <!-- snippet: from PATH -->            must appear verbatim in PATH (a built example)
    <!-- snippet: skip: REASON -->         not checked; the reason is required

`decl`, `function` and `coroutine` blocks of a page are compiled together, in page order, in one
translation unit that starts with context.hpp (every public header) and with the page's contexts:
`<!-- snippet-context: NAME -->` anywhere in the page adds tests/docs/context/NAME.hpp (models and
names the page's fragments use without declaring them). `#include` lines of any block are moved to
the top of its translation unit. A block without a marker is an error.

The page's relative links are checked too: the file must exist and, for `file.md#anchor`, the
heading must be there (GitHub's anchor spelling).
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

FENCE_OPEN = re.compile(r"^```(cpp|cmake)\s*$")
MARKER = re.compile(r"^<!--\s*snippet:\s*(.*?)\s*-->\s*$")
CONTEXT = re.compile(r"<!--\s*snippet-context:\s*([A-Za-z0-9_]+)\s*-->")


class Block:
    def __init__(self, line, marker, code):
        self.line = line  # 1-based line of the opening fence
        self.marker = marker
        self.code = code


def read_blocks(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, errors = [], []
    i = 0
    while i < len(lines):
        fence = FENCE_OPEN.match(lines[i])
        if fence:
            language = fence.group(1)
            start = i
            marker = None
            if i > 0:
                m = MARKER.match(lines[i - 1].strip())
                if m:
                    marker = m.group(1)
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                errors.append(f"{path}:{start + 1}: unterminated ```cpp block")
                break
            code = "\n".join(lines[i + 1:j])
            if language == "cmake" and marker is not None and not marker.startswith(("from ", "skip:")):
                errors.append(f"{path}:{start + 1}: a ```cmake block can only be checked with "
                              "<!-- snippet: from PATH --> or skipped")
            elif language == "cmake" and marker is None:
                pass  # CMake blocks are checked only when they say where they come from
            elif marker is None:
                errors.append(f"{path}:{start + 1}: ```cpp block without a marker; put one of "
                              "<!-- snippet: file | decl | function(...) | coroutine(...) | from PATH | "
                              "skip: REASON --> on the line above the fence")
            else:
                blocks.append(Block(start + 1, marker, code))
            i = j + 1
        else:
            i += 1
    return blocks, errors


LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.M)


def anchor(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", ""))
    return text.replace(" ", "-")


def check_links(path, page, text):
    errors = []
    base = os.path.dirname(path)
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(base, file_part)) if file_part else path
        if not os.path.exists(dest):
            errors.append(f"{page}: broken link {target}: {file_part} does not exist")
            continue
        if frag and dest.endswith(".md"):
            anchors = {anchor(h) for h in HEADING.findall(open(dest, encoding="utf-8").read())}
            if frag not in anchors:
                errors.append(f"{page}: broken link {target}: no heading with anchor #{frag}")
    return errors


def split_includes(code):
    includes, rest = [], []
    for line in code.split("\n"):
        (includes if line.lstrip().startswith("#include") else rest).append(line)
    return includes, "\n".join(rest)


def line_directive(block, page):
    return f'#line {block.line + 1} "{page}"'


def compile_source(args, source, name):
    with tempfile.NamedTemporaryFile("w", suffix=".cpp", prefix=name, delete=False) as f:
        f.write(source)
        path = f.name
    cmd = [args.cxx, "-std=c++20", "-fsyntax-only", "-w", "-x", "c++", path]
    for d in args.include:
        cmd += ["-I", d]
    for d in args.define:
        cmd.append("-D" + d)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(path)
    return r.returncode, r.stdout + r.stderr, source


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--repo", required=True)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--include", action="append", default=[])
    ap.add_argument("--define", action="append", default=[])
    args = ap.parse_args()
    args.define = [d for ds in args.define for d in ds.split(",") if d]

    page = os.path.relpath(args.page, args.repo)
    blocks, errors = read_blocks(args.page)
    text = open(args.page, encoding="utf-8").read()
    contexts = CONTEXT.findall(text)
    errors += check_links(args.page, page, text)

    shared_includes = ['#include "context.hpp"'] + [f'#include "context/{c}.hpp"' for c in contexts]
    shared_body = []
    files = []
    checked = {"file": 0, "shared": 0, "from": 0, "skip": 0}
    for b in blocks:
        kind, _, rest = b.marker.partition(" ")
        fn = re.match(r"^(function|coroutine)\((.*)\)$", b.marker)
        if b.marker == "file":
            files.append(b)
            checked["file"] += 1
        elif b.marker == "decl" or fn:
            includes, body = split_includes(b.code)
            shared_includes += includes
            if b.marker == "decl":
                shared_body.append(f"{line_directive(b, page)}\n{body}")
            else:
                ret = "void" if fn.group(1) == "function" else "boost::asio::awaitable<void>"
                params = fn.group(2)
                shared_body.append(f"[[maybe_unused]] {ret} snippet_line_{b.line}({params}) {{\n"
                                   f"{line_directive(b, page)}\n{body}\n}}")
            checked["shared"] += 1
        elif kind == "from":
            source_path = os.path.join(args.repo, rest.strip())
            try:
                source = open(source_path, encoding="utf-8").read()
            except OSError as e:
                errors.append(f"{page}:{b.line}: cannot read {rest.strip()}: {e}")
                continue
            if b.code not in source:
                errors.append(f"{page}:{b.line}: this block is not a verbatim part of {rest.strip()} any more; "
                              "copy the current text of the program into the page")
            else:
                checked["from"] += 1
        elif kind == "skip:" and rest.strip():
            checked["skip"] += 1
        else:
            errors.append(f"{page}:{b.line}: unknown snippet marker '{b.marker}'")

    jobs = []
    if shared_body:
        includes = list(dict.fromkeys(shared_includes))
        source = "\n".join(includes) + "\n" + "\n\n".join(shared_body) + "\n"
        jobs.append(("fragments", source))
    for b in files:
        includes, body = split_includes(b.code)
        source = "\n".join(includes) + f"\n{line_directive(b, page)}\n{body}\n"
        # The includes were hoisted; keep their lines out of the numbering by re-synchronising.
        jobs.append((f"file_line_{b.line}", source))

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda j: (j[0],) + compile_source(args, j[1], j[0]), jobs))
    for name, rc, out, source in results:
        if rc != 0:
            errors.append(f"{page}: the {name} translation unit does not compile:\n{out}\n"
                          f"--- the translation unit ---\n{source}")

    print(f"{page}: {checked['shared']} fragments/declarations and {checked['file']} whole files compiled, "
          f"{checked['from']} blocks found verbatim in their program, {checked['skip']} skipped")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
