"""Import direction between the layers, and a lint for the pitfalls this stack is known for."""

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "gateway"
WEB = {"flask", "authlib", "marshmallow", "werkzeug", "flask_limiter"}
STDLIB = set(sys.stdlib_module_names)


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def imported_modules(path: Path) -> set[str]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return modules_in(path.read_text(encoding="utf-8"), package)


def modules_in(source: str, package: str) -> set[str]:
    """Every module `source` (a file of `package`) imports, absolute, relative ones resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            # `from gateway import security` imports gateway.security
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def offending(paths: list[Path], forbidden) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    result = {}
    for path in paths:
        bad = sorted(m for m in imported_modules(path) if forbidden(m))
        if bad:
            result[str(path.relative_to(ROOT))] = bad
    return result


def top(module: str) -> str:
    return module.split(".")[0]


def under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_layers_are_where_the_test_looks():
    # an empty glob would make every check below pass vacuously
    for folder in ("services", "repositories", "redaction"):
        assert python_files(GATEWAY / folder), folder
    assert python_files(ROOT / "schemas")


def test_services_and_repositories_know_nothing_of_the_web():
    files = python_files(GATEWAY / "services") + python_files(GATEWAY / "repositories")

    assert offending(files, lambda m: top(m) in WEB) == {}


def test_repositories_never_call_up_into_services_or_views():
    files = python_files(GATEWAY / "repositories")

    assert (
        offending(
            files,
            lambda m: (
                under(m, "gateway.services") or under(m, "gateway.views") or m == "gateway.oauth"
            ),
        )
        == {}
    )


def test_services_never_import_views():
    files = python_files(GATEWAY / "services")

    assert offending(files, lambda m: under(m, "gateway.views") or m == "gateway.oauth") == {}


def test_redaction_is_pure():
    files = python_files(GATEWAY / "redaction")
    io = WEB | {"psycopg", "psycopg_pool", "redis", "requests", "httpx", "urllib3", "socket"}

    assert (
        offending(
            files,
            lambda m: (
                top(m) in io
                or under(m, "gateway.repositories")
                or under(m, "gateway.services")
                or under(m, "gateway.db")
            ),
        )
        == {}
    )


def test_schemas_import_only_marshmallow():
    files = python_files(ROOT / "schemas")

    assert (
        offending(files, lambda m: not (top(m) in {"marshmallow", "schemas"} or top(m) in STDLIB))
        == {}
    )


def test_app_py_only_builds_the_app():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]

    assert [(node.module, [a.name for a in node.names]) for node in imports] == [
        ("gateway", ["create_app"])
    ]


def test_the_import_checker_sees_violations():
    # the checker itself must be able to fail
    source = "import flask\nfrom authlib.oauth2 import x\nfrom ..views import protection\n"

    found = modules_in(source, "gateway.services")

    assert {"flask", "authlib.oauth2", "gateway.views.protection"} <= found


# --- lint


def source_files() -> list[Path]:
    return python_files(GATEWAY) + python_files(ROOT / "schemas")


def _balanced(depth: int) -> str:
    """A regex for one character or a parenthesised group nested up to `depth` deep."""
    pattern = r"[^()]"
    for _ in range(depth):
        pattern = rf"(?:[^()]|\((?:{pattern})*\))"
    return pattern


# set_config( … , false), whose arguments may hold parentheses: %(developer_id)s, or
# nullif(coalesce(%(x)s, ''), '')
_SESSION_SET_CONFIG = re.compile(
    rf"set_config\s*\((?:{_balanced(4)})*,\s*false\s*\)", re.IGNORECASE
)


def test_no_session_level_set_config():
    sql_files = sorted((GATEWAY / "sql").rglob("*.sql"))
    hits = [
        str(path.relative_to(ROOT))
        for path in source_files() + sql_files
        if _SESSION_SET_CONFIG.search(path.read_text(encoding="utf-8"))
    ]

    assert hits == []


@pytest.mark.parametrize(
    "source",
    [
        "SELECT set_config('gateway.role', %s, false)",
        "SELECT set_config('gateway.developer_id', %(developer_id)s, false)",
        "set_config(\n    'gateway.user_id',\n    %(user_id)s,\n    FALSE\n)",
        "SELECT set_config('gateway.x', nullif(coalesce(%(x)s, ''), ''), false)",
    ],
)
def test_the_set_config_lint_catches_session_level_settings(source):
    assert _SESSION_SET_CONFIG.search(source)


@pytest.mark.parametrize(
    "source",
    [
        "SELECT set_config('gateway.developer_id', %(developer_id)s, true)",
        "set_config('gateway.a', %(a)s, true),\n       set_config('gateway.b', %(b)s, true)",
        "SELECT set_config('gateway.x', %(false_flag)s, true)",
    ],
)
def test_the_set_config_lint_allows_transaction_local_settings(source):
    assert not _SESSION_SET_CONFIG.search(source)


def test_no_session_level_set_of_gateway_settings():
    # `SET gateway.x = …` (without LOCAL) outlives the transaction on a pooled connection
    pattern = re.compile(r"\bSET\s+(?!LOCAL\b)(SESSION\s+)?gateway\.", re.IGNORECASE)
    hits = [
        str(path.relative_to(ROOT))
        for path in source_files() + sorted((GATEWAY / "sql").rglob("*.sql"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert hits == []


def test_no_schema_lets_unknown_fields_in():
    pattern = re.compile(
        r"unknown\s*=\s*(marshmallow\.)?INCLUDE|marshmallow\.INCLUDE|import .*\bINCLUDE\b"
    )
    hits = [
        str(path.relative_to(ROOT))
        for path in source_files()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert hits == []


def test_no_schema_dumps_a_free_form_field():
    pattern = re.compile(r"fields\.(Raw|Dict)\b|\b(Raw|Dict)\(")
    hits = [
        str(path.relative_to(ROOT))
        for path in python_files(ROOT / "schemas")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert hits == []


_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


def _formatted_sql(node: ast.expr) -> bool:
    """Whether `node` builds a string at call time from anything but module-level constants."""
    if isinstance(node, ast.JoinedStr):
        return any(
            not (isinstance(part.value, ast.Name) and _CONSTANT.match(part.value.id))
            for part in node.values
            if isinstance(part, ast.FormattedValue)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return isinstance(node.left, ast.Constant | ast.JoinedStr) or isinstance(
            node.right, ast.Constant | ast.JoinedStr
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
    return False


def formatted_execute_calls(source: str) -> list[int]:
    """Lines where `.execute(` gets SQL formatted from runtime values (an f-string, % or format).

    Interpolating only module-level UPPER_CASE constants (a column list) is fixed at import
    time and allowed; anything else must be a bound parameter or a psycopg.sql composition.
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"execute", "executemany"}
            and node.args
            and _formatted_sql(node.args[0])
        ):
            lines.append(node.lineno)
    return lines


def test_no_formatted_sql_reaches_execute():
    hits = {
        str(path.relative_to(ROOT)): lines
        for path in python_files(GATEWAY)
        if (lines := formatted_execute_calls(path.read_text(encoding="utf-8")))
    }

    assert hits == {}


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute(f"SELECT * FROM t WHERE id = {user_id}")',
        "conn.execute(f\"SELECT {_COLUMNS} FROM t WHERE name = '{name}'\")",
        'cur.execute("SELECT * FROM t WHERE id = %s" % value)',
        'cur.execute("SELECT * FROM t WHERE id = {}".format(value))',
        'cur.execute("SELECT * FROM t WHERE id = " + value)',
        'cur.executemany(f"INSERT INTO {table} VALUES (%s)", rows)',
    ],
)
def test_the_sql_lint_catches_formatting(source):
    assert formatted_execute_calls(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute("SELECT * FROM t WHERE id = %(id)s", {"id": value})',
        'conn.execute(f"SELECT {_COLUMNS} FROM t WHERE id = %(id)s", {"id": value})',
        "conn.execute(sql.SQL('SELECT {}').format(sql.Identifier(name)))",
    ],
)
def test_the_sql_lint_allows_bound_parameters(source):
    assert formatted_execute_calls(source) == []


def test_the_edges_reach_the_database_through_services():
    # views, commands and the OAuth glue call services; only services call repositories
    files = [
        *python_files(GATEWAY / "views"),
        *python_files(GATEWAY / "commands"),
        GATEWAY / "cli.py",
        GATEWAY / "oauth.py",
    ]

    assert offending(files, lambda m: under(m, "gateway.repositories")) == {}
