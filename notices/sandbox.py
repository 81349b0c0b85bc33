"""Turn template files into compiled templates that can neither print data as markup nor read outside their folders.

Autoescaping prints every value as text. The constructs refused here would print a value (an owner
name from the roll is hostile data) as HTML instead; a template that writes one is refused when it
is compiled, with its file and line, before any notice is composed. Templates are read only where
their real path lies inside the collector's folder or the shared base.
"""

from __future__ import annotations

import abc
import functools
import hashlib
import os
import posixpath
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, FileSystemLoader, TemplateError, TemplateNotFound, nodes
from jinja2.bccache import Bucket
from jinja2.environment import Environment
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import Markup

from .errors import ConfigError

# --------------------------------------------------------------------------------------------
# What a collector's template may not do: turn data into markup, or read outside its folders.
#
# Autoescaping prints every value as text. The constructs below would print a value (an owner name
# from the roll is hostile data) as HTML instead. A template that writes one is refused when it is
# compiled, with its file and line, before any notice is composed. The project's own helpers that
# return markup (``statement``, ``field``, the translation hook, a template's macros) escape what
# they are given, so they stay.

_UNESCAPED = "prints its value as HTML, unescaped, so a name on the roll could add markup to every notice"

# Builtin filters that make markup out of their input: no notice needs one.
REFUSED_FILTERS: dict[str, tuple[str, str]] = {
    "safe": (_UNESCAPED, "Print the value as it is (it is escaped); write markup in the template or in a macro"),
    "tojson": ("marks a value's JSON as HTML, and its double quotes end an HTML attribute",
               "Print the value as it is, or write the JSON in the template"),
    "urlize": ("turns web and mail addresses in its value into links",
               'Write the link in the template: <a href="...">{{ value }}</a>'),
    "xmlattr": ("writes HTML attributes named by a mapping's keys, which may come from data",
                'Write each attribute in the template: title="{{ value }}"'),
}

# The translation functions the i18n extension installs, and how many of their first arguments are
# the message (and its context). A translation is printed as HTML (the catalog is trusted, and the
# values put into it are escaped), so those arguments must be words written in the template.
_GETTEXT = {"_": 1, "gettext": 1, "pgettext": 2, "ngettext": 2, "npgettext": 3}

# A namespace answers any attribute it holds, so one holding __html__ (say, a record value's bound
# .lower) would print that method's result as markup; names starting with '_' are refused.
_NAMESPACE_WHY = "gives a namespace a name starting with '_', such as __html__, which would print as HTML"
_NAMESPACE_FIX = "Name the namespace's values with a letter first: ns.total"

_Refusal = tuple[int, str, str, str]  # line, construct, why it is refused, what to write instead


def _literal(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const)


def _literal_text(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def _filter_refusal(
    name: str, args: Sequence[nodes.Expr], kwargs: Sequence[nodes.Keyword | nodes.Pair], dynamic: bool
) -> tuple[str, str, str] | None:
    """Why calling filter ``name`` with these arguments may print data as markup, or None.

    ``dynamic`` is true when the call also passes ``*args`` or ``**kwargs``, whose contents the
    check cannot see.
    """
    if name in REFUSED_FILTERS:
        return (f"|{name}", *REFUSED_FILTERS[name])
    if name == "indent" and (dynamic or not all(_literal(n) for n in [*args, *(k.value for k in kwargs)])):
        # do_indent makes a string indentation Markup when the text it indents is Markup.
        return ("|indent(...) with a value",
                "prints its indentation as HTML, unescaped, when the text is markup (field, statement, a macro)",
                "Indent by a number or by a string written in the template")
    if name == "map" and (args or dynamic):
        # map applies any filter by name: map('safe') is |safe.
        if not args or not _literal_text(args[0]):
            return ("|map(...) with a filter name that is not written out", "could apply |safe to every item",
                    "Write the filter's name as a string: map('upper'), or map(attribute='name')")
        inner_name = str(args[0].as_const())
        inner = _filter_refusal(inner_name, args[1:], kwargs, dynamic)
        if inner is not None:
            return (f"|map({inner_name!r}, ...)", inner[1], inner[2])
    return None


def _refusals(tree: nodes.Template) -> Iterator[_Refusal]:
    """Every construct in a parsed template that could print data as markup."""
    translation_calls: set[int] = set()
    for call in tree.find_all(nodes.Call):
        function = call.node
        if isinstance(function, nodes.Name) and function.name in _GETTEXT:
            translation_calls.add(id(function))
            count = _GETTEXT[function.name]
            messages = call.args[:count]
            if len(messages) < count or call.dyn_args or call.dyn_kwargs or not all(map(_literal_text, messages)):
                yield (call.lineno, f"{function.name}(...) with a value",
                       "prints the value as HTML, unescaped: a translation is markup, so its message must be "
                       "words written in the template",
                       f"Write the message as a string and pass values by name: "
                       f"{function.name}('Owner: %(name)s', name=record.owners[0])")
    for node in tree.find_all((nodes.Filter, nodes.EvalContextModifier, nodes.NSRef, nodes.Name)):
        if isinstance(node, nodes.Filter):
            found = _filter_refusal(node.name, node.args, node.kwargs, bool(node.dyn_args or node.dyn_kwargs))
            if found is not None:
                yield (node.lineno, *found)
        elif isinstance(node, nodes.EvalContextModifier):
            # {% autoescape %}: only `true` keeps escaping on; anything else may turn it off.
            for option in node.options:
                if option.key != "autoescape" or not (isinstance(option.value, nodes.Const) and option.value.value is True):
                    yield (node.lineno, "{% autoescape %} with anything but true", "turns escaping off, so values print as HTML",
                           "Remove the {% autoescape %} tag: every value is escaped, markup is written in the template")
        elif isinstance(node, nodes.NSRef) and node.attr.startswith("_"):
            yield (node.lineno, f"{{% set {node.name}.{node.attr} %}}", _NAMESPACE_WHY, _NAMESPACE_FIX)
        elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name in _GETTEXT and id(node) not in translation_calls:
            yield (node.lineno, f"{node.name} used other than called",
                   "lets another name call the translation with a value, which prints it as HTML",
                   f"Call {node.name}('...') where the words are printed")


# (file, digest of its source) of the templates that passed the check: each template is checked
# once per process, however many Composers (one per job, insert or web section) compile it.
_PASSED: set[tuple[str, str]] = set()


def refuse_markup(tree: nodes.Template, file: str) -> None:
    """Raise ConfigError, with file and line, for the first construct that could print data as markup."""
    found = min(_refusals(tree), default=None)
    if found is not None:
        line, construct, why, fix = found
        raise ConfigError(f"The template's {construct} {why}", file=file, line=line, hint=fix)


# Markup methods a template may call: each escapes its arguments or returns plain text. The others
# cut markup into pieces (split, partition) or map its characters to strings left unescaped
# (translate), which would put a value where a tag is.
_MARKUP_METHODS = frozenset({
    "join", "format", "format_map", "replace", "unescape", "striptags",
    "upper", "lower", "title", "capitalize", "startswith", "endswith", "count",
})

# Builtin filters that return a piece of their input (reversed, cut short, one character). On markup
# the piece can end inside a tag, and the next value printed then becomes part of the tag.
_CUTTING_FILTERS = ("reverse", "truncate", "random", "last")


def _whole_markup(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a builtin filter), refusing markup: it may cut plain text only."""

    @functools.wraps(function)  # keeps jinja_pass_arg, so Jinja still passes the context or environment
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(a, Markup) for a in args):
            raise SecurityError(
                f"|{name} cuts markup (from field, statement, _() or a macro) into a piece that may end inside "
                f"a tag; apply it to the value first: {{{{ value | {name} | field }}}}"
            )
        return function(*args, **kwargs)

    return guarded


def _namespace(*args: Any, **kwargs: Any) -> Namespace:
    """Jinja's ``namespace()``, refusing names that start with '_' (set in a {% set ns.x %} they are
    refused when the template is compiled)."""
    values = dict(*args, **kwargs)
    for key in values:
        if not isinstance(key, str) or key.startswith("_"):
            raise SecurityError(f"namespace() {_NAMESPACE_WHY}: {key!r}. {_NAMESPACE_FIX}")
    return Namespace(values)


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The sandbox the Composer renders in, which also keeps data from becoming markup.

    Every template it compiles (a document's, or one it includes, imports or extends) is checked
    with ``refuse_markup`` first. Markup a template holds (the result of ``field``, ``statement``,
    ``_()`` or a macro) stays whole: no slicing, no method that cuts it or leaves arguments unescaped,
    no filter that returns a piece of it.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in _CUTTING_FILTERS:
            self.filters[name] = _whole_markup(name, self.filters[name])
        self.globals["namespace"] = _namespace
        # The answer of is_safe_attribute for each (class, attribute) asked: a statement reads some
        # eighty attributes, the same ones on every piece. The answer depends on the object's class
        # alone (isinstance tests and the name); registering a class with an abstract base class can
        # change an isinstance answer, so the answers are dropped when one is registered.
        self._safe_attributes: dict[tuple[type, str], bool] = {}
        self._abc_token = abc.get_cache_token()

    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        file = filename or name or "<template>"
        if isinstance(source, str):
            key = (file, hashlib.sha256(source.encode("utf-8")).hexdigest())
            source = self.parse(source, name, filename)  # parsed once, for the check and the code
            if key not in _PASSED:
                refuse_markup(source, file)
                _PASSED.add(key)
        else:
            refuse_markup(source, file)
        _slices_through_getitem(source)
        source.set_environment(self)
        # Jinja types compile by overloads on a literal raw; this passes any caller's raw through.
        return super().compile(source, name, filename, raw, defer_init)  # type: ignore[call-overload]  # see the comment above

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        kind = type(obj)
        if obj.__class__ is not kind or type(attr) is not str:  # an object that claims another class: asked every time
            return self._is_safe_attribute(obj, attr, value)
        token = abc.get_cache_token()
        if token != self._abc_token:
            self._safe_attributes.clear()
            self._abc_token = token
        key = (kind, attr)
        safe = self._safe_attributes.get(key)
        if safe is None:
            safe = self._safe_attributes[key] = self._is_safe_attribute(obj, attr, value)
        return safe

    def _is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Whether a template may read ``attr`` of ``obj`` (Jinja's immutable sandbox, and whole markup)."""
        if isinstance(obj, Markup) and attr not in _MARKUP_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Markup):
            return self.undefined(
                f"markup (from field, statement, _() or a macro) offers only {', '.join(sorted(_MARKUP_METHODS))}, "
                f"which escape their arguments or return plain text; use {attribute!r} on the value before marking it",
                obj=obj, name=attribute, exc=SecurityError,
            )
        return super().unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Markup) and not isinstance(argument, str):
            return self.undefined(
                "a piece of markup (from field, statement, _() or a macro) may end inside a tag, where the next "
                "value printed would become part of it; take the piece of the value before marking it",
                obj=obj, name=str(argument), exc=SecurityError,
            )
        return super().getitem(obj, argument)


def _slices_through_getitem(tree: nodes.Template) -> None:
    """Make ``value[a:b]`` go through the sandbox's ``getitem`` like ``value[i]`` does.

    Jinja writes a slice as a plain Python subscript, which would hand a template a piece of
    markup; as a ``slice(a, b, c)`` argument it reaches ``TemplateSandbox.getitem``.
    """
    for node in tree.find_all(nodes.Getitem):
        if isinstance(node.arg, nodes.Slice):
            bounds: list[nodes.Expr] = [
                part if part is not None else nodes.Const(None) for part in (node.arg.start, node.arg.stop, node.arg.step)
            ]
            call = nodes.Call(nodes.ImportedName("builtins.slice"), bounds, [], None, None)
            call.set_lineno(node.lineno)
            node.arg = call


class CompiledTemplates(BytecodeCache):
    """Templates compiled by one process, handed to the processes it starts: a worker would spend 0.05 s
    compiling the statement's template again before its first piece.

    Jinja asks this before compiling a template: the code is used only for the same file with the same
    source (Jinja compares the source's checksum and its own and Python's version), which
    ``TemplateSandbox.compile`` checked where it was compiled; any other template is compiled, and
    checked, here. Kept in memory, never on disk, where anything able to write there could hand the
    sandbox code it never checked.
    """

    def __init__(self, compiled: Iterable[tuple[str, bytes]] = ()) -> None:
        self._code = dict(compiled)

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._code.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def export(self) -> tuple[tuple[str, bytes], ...]:
        """Every template compiled or given so far, in a stable order (a worker's spec compares equal)."""
        return tuple(sorted(self._code.items()))


class RootedLoader(FileSystemLoader):
    """Look templates up in each root in turn (the collector's folder, then templates/base), and refuse
    one whose real path, symbolic links followed, is inside none of them.

    A link in a collector's folder to a system file would otherwise print that file on every
    notice. Links that stay inside the roots are fine; the file read is the real path checked.
    """

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__([os.fspath(r) for r in roots])
        self.real_roots = tuple(Path(os.path.realpath(r)) for r in roots)

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses '..' segments
        for root in self.searchpath:
            path = posixpath.join(root, *pieces)
            if os.path.isfile(path):
                break
        else:
            raise TemplateNotFound(template, f"{template!r} is in none of {', '.join(self.searchpath)}")
        real = os.path.realpath(path)
        if not any(Path(real).is_relative_to(root) for root in self.real_roots):
            raise ConfigError(
                "The template leads, through a link, to a file outside the collector's folder and templates/base",
                file=os.path.normpath(path),
                value=real,
                hint="Copy the file into the collector's folder instead of linking to it",
            )
        with open(real, encoding=self.encoding) as handle:
            source = handle.read()
        mtime = os.path.getmtime(real)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(real) == mtime
            except OSError:
                return False

        return source, os.path.normpath(path), uptodate


def template_location(exc: TemplateError, name: str, roots: Sequence[str]) -> tuple[str, int | None]:
    """The template file and line of an error: Jinja's for a syntax error, else the innermost
    template frame of its traceback (Jinja rewrites those frames to template lines)."""
    line = getattr(exc, "lineno", None)
    if line is None:
        prefixes = tuple(os.path.join(root, "") for root in roots)
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.startswith(prefixes):
                return frame.filename, frame.lineno
    return getattr(exc, "filename", None) or name, line
