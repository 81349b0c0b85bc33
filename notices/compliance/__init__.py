"""Turn a composed piece or a finished PDF into findings: which mandated blocks are there, where, and in order."""

from .checker import check_file, check_pdf, target_for
from .composed import check_composed
from .passages import word_diff
from .pdftext import PageFacts, PdfText, find_words, fold, page_texts, read_pages, read_pdf, shared_pages, words
from .report import Finding, Report, Target, errors

__all__ = [
    "Finding", "PageFacts", "PdfText", "Report", "Target", "check_composed", "check_file", "check_pdf", "errors",
    "find_words", "fold", "page_texts", "read_pages", "read_pdf", "shared_pages", "target_for", "word_diff", "words",
]
