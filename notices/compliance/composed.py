"""Turn a document's composed HTML (before it is laid out) into findings on the block markers it carries."""

from __future__ import annotations

from ..compose import markers
from ..resolve import Part
from .report import Finding


def check_composed(html: str, part: Part) -> list[Finding]:
    """The composed HTML carries exactly the blocks in force, each once, in statutory order."""
    found = markers(html)
    expected = list(part.block_ids)
    findings: list[Finding] = []
    for block in part.blocks:
        count = found.count(block.id)
        if count == 0 and not block.optional:
            findings.append(Finding(block.id, block.citation, "error", "the template does not print this block"))
        elif count > 1:
            findings.append(Finding(block.id, block.citation, "error", f"printed {count} times"))
    for extra in sorted(set(found) - set(expected)):
        findings.append(Finding(extra, "", "error", "the template prints a block that is not in force or does not apply"))
    present = [b for b in found if b in expected]
    if not findings and present != [b for b in expected if b in present]:
        findings.append(Finding(part.document.id, "", "error", "blocks are out of statutory order: " + " ".join(present)))
    return findings
