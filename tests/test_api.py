"""The public facade: one sorted __all__ that is exactly the public names of the package."""

from __future__ import annotations

import types

import notices


def test_all_is_sorted() -> None:
    """__all__ is kept in sorted order, so an addition shows where it belongs."""
    assert notices.__all__ == sorted(notices.__all__)


def test_all_has_no_duplicates() -> None:
    """Each name is exported once."""
    assert len(notices.__all__) == len(set(notices.__all__))


def test_all_equals_the_public_names() -> None:
    """Every public name of the package (not a submodule, not private) is in __all__, and nothing else."""
    public = {
        name
        for name, value in vars(notices).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name not in ("annotations", "TYPE_CHECKING", "Any")
    }
    assert set(notices.__all__) - {"__version__"} == public | set(notices._LAZY)


def test_every_exported_name_exists() -> None:
    """Each name in __all__ can be imported from the package."""
    for name in notices.__all__:
        assert hasattr(notices, name), name


def test_exported_errors_share_one_base() -> None:
    """Every exported exception derives from NoticesError, so callers can catch the library's errors at once."""
    errors = [getattr(notices, n) for n in notices.__all__ if isinstance(getattr(notices, n), type)]
    assert errors
    assert all(issubclass(e, notices.NoticesError) for e in errors if issubclass(e, BaseException))


def test_version_matches_the_distribution() -> None:
    """notices.__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert notices.__version__ == version("notices")


def test_lazy_names_load_on_first_use() -> None:
    """The names that render or check are reachable from the facade, though `import notices` does not load them."""
    assert callable(notices.run)
    assert callable(notices.check_file)
    assert notices.Report.__name__ == "Report"
