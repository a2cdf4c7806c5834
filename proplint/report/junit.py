"""JUnit XML: one test suite per file with findings, one failed test case per finding (CI test viewers)."""

from __future__ import annotations

from itertools import groupby
from xml.etree import ElementTree as ET

from proplint.core.rule import Finding


def render(findings: list[Finding]) -> str:
    root = ET.Element("testsuites", name="proplint", tests=str(len(findings) or 1), failures=str(len(findings)))
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="proplint", tests="1", failures="0")
        ET.SubElement(suite, "testcase", name="no findings", classname="proplint")
    for path, group in groupby(sorted(findings, key=lambda f: f.sort_key), key=lambda f: f.path):
        items = list(group)
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(items)), failures=str(len(items)))
        for f in items:
            case = ET.SubElement(suite, "testcase", name=f"{f.code} at {path}:{f.line}:{f.column}",
                                 classname=path, file=path, line=str(f.line))
            failure = ET.SubElement(case, "failure", message=f"{f.code} {f.message}", type=f.code)
            failure.text = f"{path}:{f.line}:{f.column}: {f.code} {f.display_message()}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
