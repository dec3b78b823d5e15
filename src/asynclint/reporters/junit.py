"""JUnit XML, for the test tabs of CI systems (GitLab, Jenkins, Azure, CircleCI...).

One <testsuite> per file with findings and one failing <testcase> per finding;
a clean run is one passing test case, so the tab shows that the check ran.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import PurePath
from typing import TextIO

from asynclint.diagnostics import Diagnostic
from asynclint.reporters import ReportContext

# Characters XML 1.0 cannot hold at all, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _classname(path: str) -> str:
    pure = PurePath(path)
    parts = [part for part in pure.with_suffix("").parts if part not in ("/", ".", "..") and not part.endswith(":\\")]
    return ".".join(parts) or pure.name


def junit_tree(diagnostics: list[Diagnostic]) -> ET.ElementTree[ET.Element]:
    failures = len(diagnostics)
    root = ET.Element("testsuites", name="asynclint", tests=str(max(failures, 1)), failures=str(failures), errors="0")
    if not diagnostics:
        suite = ET.SubElement(root, "testsuite", name="asynclint", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name="No findings", classname="asynclint")
    ordered = sorted(diagnostics, key=lambda d: d.sort_key)
    for path, group in groupby(ordered, key=lambda d: d.path):
        found = list(group)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_clean(path),
            tests=str(len(found)),
            failures=str(len(found)),
            errors="0",
            skipped="0",
        )
        for d in found:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{d.code} at line {d.row}, column {d.col}",
                classname=_clean(_classname(path)),
                file=_clean(path),
                line=str(d.row),
            )
            failure = ET.SubElement(case, "failure", message=_clean(d.message), type=d.code)
            failure.text = _clean(
                f"{path}:{d.row}:{d.col}: {d.code} {d.message}" + (f"\nhelp: {d.help}" if d.help else "")
            )
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(junit_tree(diagnostics).getroot(), encoding="unicode"))
    out.write("\n")
