"""Turn a large-print job into a verdict before any piece is rendered: does the § 14-812(b)(1) summary fit one page at 18 pt.

The summary's words are the collector's, not the statute's, so a collector may give a shorter one for
large print (``[large_print] summary`` in the profile); the statements around it are data and never
shortened. A summary that runs past one page stops the run here, naming the collector, the document
and the page count, rather than quarantining every piece with the same finding.
"""

from __future__ import annotations

from typing import Any

from .compliance import Target, check_pdf, errors
from .errors import ComplianceError
from .job import Job
from .resolve import Part

SUMMARY_BLOCK = "tp-14-812-b-1"


def summary_part(job: Job) -> Part | None:
    """The document of the plan that carries the one-page summary (the § 14-812(b) insert), if any."""
    return next((part for part in job.plan.parts if SUMMARY_BLOCK in part.block_ids), None)


def summary_pages(job: Job, part: Part) -> tuple[int | None, Any]:
    """How many pages the summary spans when its document is laid out (None: no #summary marker), and the layout."""
    html = job.composer.fragment(part, None, seq=0, pages=1)
    document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title), what=part.document.id)
    anchors = [set(page.anchors) for page in document.pages]  # the element ids on each page
    first = next((i for i, names in enumerate(anchors) if "summary" in names), None)
    last = next((i for i, names in enumerate(anchors) if "summary-end" in names), None)
    if first is None or last is None:
        return None, document  # a collector's own summary without the markers: the statute check reads it from the text
    return last - first + 1, document


def require_summary_fits(job: Job) -> None:
    """Stop a large-print run whose § 14-812(b)(1) summary would not begin and end on one page.

    The error carries the laid-out insert and its check's findings, so the designers' preview can show
    the overflowing pages; a run writes neither.
    """
    if not job.plan.large_print:
        return
    part = summary_part(job)
    if part is None:
        return
    pages, document = summary_pages(job, part)
    if pages is None or pages <= 1:
        return
    collector = job.collector
    own = collector.facts.get("large_print", {}).get("summary")
    which = f"its large-print summary ({own})" if own else "its summary (the profile names no large-print summary)"
    pdf = job.renderer.write(document, what=part.document.id)
    findings = errors(check_pdf(pdf, Target(collector, job.plan), documents=[part.document.id]).findings)
    raise ComplianceError(
        f"Large print for {collector.name}: the Tax-Property § 14-812(b)(1) summary in the {part.document.title} ({part.document.id}) "
        f"runs to {pages} pages at 18 pt, and must begin and end on one page; {which} is too long",
        findings,
        file=collector.profile_file,
        field="large_print.summary",
        hint="write a shorter summary for large print in the collector's own words and name it in the profile: "
             '[large_print] summary = "summary-large-print.html.j2"',
        pdf=pdf,
    )
