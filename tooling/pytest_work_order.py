"""pytest plugin for `make pytest`, loaded by tooling/pytest.sh after pytest-odoo.

It closes the gaps between pytest-odoo and Odoo 18.0's own test runner (`make
test`), so that both run the same tests the same way:

- The repository may be a clone with any folder name: its files are imported
  as ``odoo.addons.work_order.*`` (the name Odoo gives them through the cache's
  addons symlink), so paths in the repository work as pytest arguments.
- Odoo's runner sets ``odoo.modules.module.current_test`` while tests run;
  pytest-odoo 2.3.0 only does that for Odoo 19+. Without it Odoo 18 really
  connects to an SMTP server when a test sends mail.
- pytest-odoo imports Odoo's test framework before any test module enables
  test mode, so Odoo logs an error about it (with a stack trace) at every
  start; Odoo's own runner logs the same line at the info level: drop it.
- Odoo's runner only runs the test files that tests/__init__.py imports,
  pytest collects every tests/test_*.py: warn about the ones the other misses.
- Odoo's runner pregenerates the asset bundles in a committed transaction
  before the HttpCase tests; otherwise each browser tour would build them in
  its own rolled-back transaction.
"""

import ast
import logging
import warnings
from pathlib import Path

import _pytest.pathlib
import pytest

MODULE = "work_order"


def _not_test_framework_import(record):
    return not str(record.msg).startswith("Importing test framework")


logging.getLogger("odoo.tests.common").addFilter(_not_test_framework_import)


def _odoo_configured():
    try:
        import odoo  # noqa: PLC0415
    except ImportError:
        return False
    return bool(odoo.tools.config["db_name"])


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """Wrap pytest-odoo's module-name resolution (patched just before)."""
    if not _odoo_configured():
        return
    import odoo  # noqa: PLC0415
    from odoo.modules.module import get_module_path  # noqa: PLC0415

    link = get_module_path(MODULE, display_warning=False)
    if not link:
        raise pytest.UsageError(f"the addon {MODULE} is not in Odoo's addons path")
    addon_dir = Path(link).resolve()
    odoo_root = Path(odoo.__file__).resolve().parent.parent
    original = _pytest.pathlib.resolve_pkg_root_and_module_name

    def resolve_pkg_root_and_module_name(path, **kwargs):
        try:
            rel = Path(path).resolve().relative_to(addon_dir)
        except ValueError:
            return original(path, **kwargs)
        parts = list(rel.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return odoo_root, ".".join(["odoo", "addons", MODULE, *parts])

    _pytest.pathlib.resolve_pkg_root_and_module_name = resolve_pkg_root_and_module_name


def pytest_collection_modifyitems(items):
    """Warn about the test files that make test (Odoo's runner) would not run."""
    if not _odoo_configured():
        return
    from odoo.modules.module import get_module_path  # noqa: PLC0415

    tests_dir = Path(get_module_path(MODULE, display_warning=False)).resolve() / "tests"
    try:
        tree = ast.parse((tests_dir / "__init__.py").read_text())
    except (OSError, SyntaxError):
        return
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                imported.add(node.module.split(".")[0])
            else:
                imported.update(alias.name for alias in node.names)
    files = {Path(item.path).resolve() for item in items}
    for path in sorted(files):
        if path.parent == tests_dir and path.stem not in imported:
            warnings.warn_explicit(
                pytest.PytestWarning(
                    "not imported by tests/__init__.py: Odoo's test runner "
                    "(make test) does not run the tests of this file"
                ),
                pytest.PytestWarning,
                str(path),
                1,
            )


@pytest.fixture(scope="session", autouse=True)
def work_order_test_mode(request, load_registry):
    """What odoo.tests.loader.run_suite and the post-install step do."""
    if not _odoo_configured():
        yield
        return
    import odoo  # noqa: PLC0415
    from odoo.modules import module  # noqa: PLC0415
    from odoo.tests import HttpCase  # noqa: PLC0415

    if request.config.getoption("--odoo-http") and any(
        isinstance(getattr(item, "cls", None), type) and issubclass(item.cls, HttpCase)
        for item in request.session.items
    ):
        registry = odoo.modules.registry.Registry(odoo.tools.config["db_name"])
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["ir.qweb"]._pregenerate_assets_bundles()
    module.current_test = True
    yield
    module.current_test = False
