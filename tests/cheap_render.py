"""A cheap stand-in for the per-piece renderer, so a test can run the main process's real pipeline on 20,000 records.

Only what a worker does is replaced (``piece.render_chunk``): each piece's statement is a blank page
with the record's real Intelligent Mail barcode drawn on it, its piece file that page alone, and no
statute check. Everything the main process does stays the real code: reading and indexing the input,
validation, the control figures, the journal, the print file (with the run's real inserts, rendered
by WeasyPrint once), the manifest and the rejects. Run as ``python tests/cheap_render.py render ...``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

import notices.batch
import notices.piece
from notices.assemble import add_mailpiece, blank_pdf, pdf_info
from notices.cli import main
from notices.job import Job
from notices.model import Record
from notices.pdfwriter import PdfStreamWriter, read_fragment
from notices.piece import PieceResult, with_barcode


def cheap_chunk(job: Job, chunk: Sequence[tuple[int, Record]]) -> list[PieceResult]:
    blank = read_fragment(blank_pdf(), 1)
    results = []
    for seq, record in chunk:
        statement, code = with_barcode(job, seq, record, blank)
        out = io.BytesIO()
        writer = PdfStreamWriter(out, info=pdf_info(job.plan, record.account_id))
        pages, _ = add_mailpiece(writer, statement, 1, (), duplex=job.collector.duplex)
        writer.close()
        results.append(PieceResult(seq, record.account_id, out.getvalue(), 1, pages, print_part=statement, barcode=code))
    return results


if __name__ == "__main__":
    # The stand-in, in this process only; and the shipped profiles hold placeholders, which a real run refuses.
    # The batch imports it from notices.piece when it renders in its own process (--workers 1), so it is replaced there.
    assert callable(notices.piece.render_chunk), "the seam this stand-in replaces has moved"
    setattr(notices.piece, "render_chunk", cheap_chunk)  # noqa: B010 - a module's name, replaced on purpose
    setattr(notices.batch, "refuse_placeholders", lambda *a, **k: None)  # noqa: B010
    sys.argv[0] = "notices"
    main()
