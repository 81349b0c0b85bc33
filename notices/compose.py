"""Turn a record, the collector, the law in force and formatted values into HTML, with Jinja."""

from __future__ import annotations

import datetime as dt
import gettext
import html as html_lib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from . import formatting, i18n, standards
from .errors import ConfigError, LawError
from .model import Block, Collector, Record
from .postal import envelopes
from .resolve import Part, Plan
from .sandbox import CompiledTemplates, RootedLoader, TemplateSandbox, template_location
from .workspace import template_roots

MARKER = re.compile(r'data-block="([^"]+)"')


def translations(language: str) -> gettext.NullTranslations:
    """The template strings' translations, from the Babel catalog (``notices/locale``, see ``i18n``)."""
    return i18n.translations(language)


def statement_translation(language: str) -> Any:
    """The hook ``statement()`` calls to print a statement's translation beside the statute's words.

    The translation carries ``lang`` and the class "translation", and no ``data-block``: the check
    counts markers, and the English words stay the statement.
    """

    def translated(block: Block, tag: str = "p", css: str = "") -> Markup:
        text = block.translation(language)
        if not text:
            raise LawError(f"The statute registry holds no {language!r} translation of this statement",
                           field="translation_" + language, value=block.id)
        inline = tag in ("span", "strong")
        element = "span" if inline else "div" if tag == "div" else "p"
        classes = " ".join(c for c in ("translation", "translation-title" if tag.startswith("h") else "", css) if c)
        shown = f" / {escape(text)}" if inline else escape(text)
        # css comes from the template, which may pass it a record's value: escaped like the words.
        return Markup(f'<{element} class="{escape(classes)}" lang="{escape(language)}">{shown}</{element}>')  # noqa: S704

    return translated


@pass_context
def _statement(context: Context, block_id: str, tag: str = "p", css: str = "") -> Markup:
    """Print a mandated statement by id, exactly as the registry holds it."""
    part: Part = context["part"]
    for block in part.blocks:
        if block.id == block_id:
            if block.kind == "content":
                raise LawError("A content block has no fixed words to print", field="statement", value=block_id)
            classes = " ".join(c for c in ("statement", block.kind, css) if c)
            if tag not in ("p", "h1", "h2", "h3", "div", "strong", "span"):
                raise ConfigError("statement() prints into p, div, span, strong or a heading", field="tag", value=tag)
            translated = context.get("statement_translation")
            extra = translated(block, tag, css) if translated else Markup("")
            # css comes from the template, which may pass it a record's value: escaped like the words.
            return Markup(  # noqa: S704 - every value in it is escaped
                f'<{tag} class="{escape(classes)}" data-block="{escape(block.id)}" data-citation="{escape(block.citation)}">'
                f"{escape(block.text)}</{tag}>{extra}"
            )
    raise LawError(
        "The template asks for a block that is not in force for this document on this date, or does not apply to this collector",
        field="statement",
        value=block_id,
    )


def field(value: Any) -> Markup:
    """Mark a per-account value that stands alone on its line: pieces that differ only in fields share one layout.

    The batch lays a statement out once per distinct skeleton (its HTML with the fields' words taken
    out) and swaps each piece's words into the field boxes (see ``notices.fields``); a value that does
    not fit on the line, or a field that is not alone on it, is simply laid out in full.
    """
    # One Markup made, not five: the same text as adding the escaped value between the two tags.
    return Markup(f'<span class="field">{escape(value)}</span>')  # noqa: S704 - the value is escaped


FIELD = re.compile(r'<span class="field">([^<]*)</span>')
# Parts of a piece's HTML that never reach the page: its anchor (which piece of a chunk a page
# belongs to) and its page name (pieces of a chunk alternate names to restart "Page X of Y").
_INVISIBLE = re.compile(r'(<section class="piece [^"]*?)\bp[ab]("[^>]*? id="piece-)\d+"')


def skeleton(html: str) -> tuple[str, list[str]]:
    """The HTML with the fields' words taken out (pieces with equal skeletons lay out alike), and those words."""
    values: list[str] = []

    def take(match: re.Match[str]) -> str:
        values.append(html_lib.unescape(match.group(1)))
        return '<span class="field"></span>'

    return _INVISIBLE.sub(r'\1p\g<2>0"', FIELD.sub(take, html)), values


def _direct_gettext(catalog: gettext.NullTranslations) -> dict[str, Any]:
    """``gettext`` and ``_`` as the i18n extension installs them (new style), calling the catalog directly.

    The extension's ``_`` looks ``gettext`` up and calls it through the context, which calls the
    catalog through the context again: a statement says about twenty words this way. These do the
    same, with the same result: the translation, as markup when autoescaping (always, in the
    Composer), formatted with the values escaped. A message printed without values is the same
    every time, so it is kept. A template that sets a ``gettext`` of its own still has ``_`` call that.
    """
    translate = getattr(catalog, "ugettext", None) or catalog.gettext  # the extension's choice
    plain: dict[str, Markup] = {}

    @pass_context
    def gettext(context: Context, string: str, /, **variables: Any) -> str:  # a value may be named string
        if not context.eval_ctx.autoescape:
            return translate(string) % variables
        if variables:
            return Markup(translate(string)) % variables  # noqa: S704 - the trusted catalog, the values escaped by %
        found = plain.get(string)
        if found is None:
            found = plain[string] = Markup(translate(string)) % variables  # noqa: S704 - the trusted catalog
        return found

    @pass_context
    def alias(context: Context, /, *args: Any, **kwargs: Any) -> Any:
        chosen = context.resolve("gettext")
        if chosen is gettext:
            return gettext(context, *args, **kwargs)
        return context.call(chosen, *args, **kwargs)

    return {"gettext": gettext, "_": alias}


class Composer:
    """Compose every document of one plan for one collector and language."""

    def __init__(self, collector: Collector, plan: Plan, language: str = "en", *, proof: bool = False,
                 pdf_variant: str = standards.PRINT, compiled: Iterable[tuple[str, bytes]] = ()) -> None:
        self.collector = collector
        self.plan = plan
        self.language = language
        self.locale = formatting.locale_for(language)
        # The collector's templates first (workspace, then shipped), then the shared ones; an Ombudsman's
        # design has base only.
        self.roots = [os.fspath(r) for r in template_roots(collector)]
        self._compiled = CompiledTemplates(compiled)  # what the process that started this one compiled
        env = TemplateSandbox(
            loader=RootedLoader([Path(r) for r in self.roots]),
            autoescape=True,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            bytecode_cache=self._compiled,
        )
        env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension at run time
        env.globals.update(_direct_gettext(translations(language)))
        env.filters.update(formatting.filters(self.locale))
        env.filters["field"] = field
        # Every profile fact a template reads is noted (``read``), so a run can tell which placeholder
        # values its documents print and refuse to mail them (``printed_placeholders``).
        self.read: set[str] = set()
        env.globals.update(
            statement=_statement,
            collector=_Tracked(i18n.localized_facts(collector.facts, language), "", self.read),
            proof=proof,
            # Where the envelope's windows put the address (notices/postal): the profile's stock or windows.
            postal=envelopes.template_values(envelopes.address_layout(envelopes.for_profile(collector.envelope))),
            below_windows=below_windows(envelopes.for_profile(collector.envelope)),
            plan=plan,
            edition=plan.edition,
            notice_date=plan.day,
            language=language,
            # Large print (--large-print): document.html.j2 adds templates/base/large-print.css and the
            # summary block prints the profile's large-print summary when it names one.
            large_print=plan.large_print,
            # The itemized list's blank rows ([statement] blank_rows), only where they let pieces share a layout:
            # not in large print, whose page holds fewer rows, nor in a standard's variant, laid out in full
            # piece by piece, where a screen reader would read them out.
            blank_rows=0 if plan.large_print or standards.full_layout(pdf_variant) else int(collector.get("statement.blank_rows", 0)),
        )
        if language != "en":
            env.globals["statement_translation"] = statement_translation(language)
        self.env = env

    def compiled(self) -> tuple[tuple[str, bytes], ...]:
        """The templates this composer has compiled (or was given), for another process's Composer (``compiled=``)."""
        return self._compiled.export()

    def render(self, name: str, **context: Any) -> str:
        """Render any template of the collector-first search path; template errors name file and line."""
        try:
            return self.env.get_template(name).render(**context)
        except TemplateError as exc:
            file, line = template_location(exc, name, self.roots)
            raise ConfigError(f"Template error: {exc.message or exc}", file=file, line=line) from None

    def fragment(self, part: Part, record: Record | None = None, *, seq: int = 0, pages: int = 1, **extra: Any) -> str:
        """One piece's HTML fragment for one document (a statement per record, or an insert)."""
        return self.render(
            f"{part.document.id}.html.j2",
            part=part,
            blocks=part.blocks,
            record=record,
            seq=seq,
            page_name="pa" if seq % 2 == 0 else "pb",
            piece_pages=pages,
            **extra,
        )

    def document(self, part: Part, fragments: Sequence[str], *, title: str) -> str:
        """Wrap fragments in one HTML document, with the metadata the PDF will carry."""
        return self.render(
            "document.html.j2",
            part=part,
            fragments=[Markup(f) for f in fragments],  # noqa: S704 - fragments this Composer composed, autoescaped
            title=title,
            lang=self.language,
        )


class _Tracked(dict[str, Any]):
    """A profile's facts that note the dotted key of every value a template reads (tables are wrapped in turn)."""

    def __init__(self, facts: dict[str, Any], path: str, read: set[str]) -> None:
        super().__init__(facts)
        self._path, self._read = path, read

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        path = f"{self._path}{key}"
        if isinstance(value, dict):
            return _Tracked(value, path + ".", self._read)
        self._read.add(path)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 - dict.get would skip the note in __getitem__

    def values(self) -> Any:  # a template that walks a table prints all of it
        return [self[k] for k in self]

    def items(self) -> Any:
        return [(k, self[k]) for k in self]


def below_windows(envelope: envelopes.Envelope, margin_top: float = 0.6, gap: float = 0.1) -> float:
    """Inches from the top of the page's content box to below every window at every position of the insert.

    Large print puts the masthead there: at 18 pt it no longer fits beside the windows, and nothing but the
    address may show through them.
    """
    lowest = max(w.bottom for w in (envelope.address_window, envelope.return_window) if w is not None)
    play = envelope.shift[1] if envelope.stock else 0.0
    return round(lowest + play + gap - margin_top, 3)


def printed_placeholders(placeholders: Sequence[str], read: set[str]) -> list[str]:
    """The collector's placeholders ("dotted.key (note)") whose value, or a value under it, a template read."""
    printed = []
    for entry in placeholders:
        key = entry.split(" (", 1)[0]
        if any(r == key or r.startswith(key + ".") or key.startswith(r + ".") for r in read):
            printed.append(entry)
    return printed


def refuse_placeholders(collector: Collector, printed: Sequence[str]) -> None:
    """Stop a run whose documents would print unconfirmed values: an unattended pipeline would mail them."""
    if printed:
        raise ConfigError(
            f"The documents would print {len(printed)} placeholder (unconfirmed) value(s) of the profile: "
            + "; ".join(_shown(collector, entry) for entry in printed),
            file=collector.profile_file,
            field=printed[0].split(" (", 1)[0],
            hint="confirm the values in the profile, or render with --proof to look at the pieces (no print file)",
        )


def _shown(collector: Collector, entry: str) -> str:
    """A placeholder as the refusal lists it: its key, the value that would print, and the profile's note."""
    key, _, note = entry.partition(" (")
    return f"{key} = {collector.get(key)!r}" + (f" ({note}" if note else "")


def markers(html: str) -> list[str]:
    """The block ids a composed fragment carries, in document order."""
    return MARKER.findall(html)


def plain_date(day: dt.date) -> str:
    return day.isoformat()
