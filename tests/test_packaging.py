"""What a package index shows: one version, an SPDX license with its file, the extras the code asks for, and a
README whose links and images still work once it is rendered away from the repository."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import xhooks
from tests.support import ROOT
from xhooks.relay import SINKS
from xhooks.store.registry import STORE_ENGINES

REPOSITORY = "https://github.com/xhooks/xhooks"
BLOB = REPOSITORY + "/blob/main/"
RAW = "https://raw.githubusercontent.com/xhooks/xhooks/main/"


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_the_version_has_one_source() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "xhooks.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", xhooks.__version__)


def test_the_license_is_an_spdx_expression_with_its_file() -> None:
    project = _project()
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the xhooks authors\n")
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]  # PEP 639: the expression only


def test_each_optional_adapter_and_engine_has_its_extra_and_the_tests_install_all() -> None:
    extras = _project()["optional-dependencies"]
    wanted = {"flask": "flask", "django": "django", "fastapi": "fastapi", "postgres": "asyncpg"}
    wanted |= {"redis": "redis", "nats": "nats-py", "rabbitmq": "aio-pika", "standardwebhooks": "standardwebhooks"}
    wanted |= {"cloudevents": "cloudevents"}
    for extra, requirement in wanted.items():
        assert [r for r in extras[extra] if re.match(rf"{requirement}\b", r)], extra
    assert set(STORE_ENGINES) - {"sqlite"} <= set(extras)  # a missing engine says `pip install 'xhooks[<engine>]'`
    assert {extra for _, _, extra in SINKS.values()} <= set(extras)  # and so does a missing sink
    (self_reference,) = [r for r in extras["test"] if r.startswith("xhooks[")]
    assert set(self_reference.removeprefix("xhooks[").removesuffix("]").split(",")) == set(wanted)


def test_the_project_urls_point_at_the_repository() -> None:
    urls = _project()["urls"]
    assert urls["Repository"] == REPOSITORY
    assert all(url.startswith(REPOSITORY) for url in urls.values())


def test_the_readme_links_and_images_are_absolute_and_name_files_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r"<img[^>]+src=\"([^\"]+)\"", readme)
    assert targets
    for target in (link.split("#", 1)[0] for link in targets):  # an anchor names a heading of that file
        if target.startswith(BLOB):
            assert (ROOT / target.removeprefix(BLOB)).is_file(), target
        elif target.startswith(RAW):
            assert (ROOT / target.removeprefix(RAW)).is_file(), target
        else:
            assert target.startswith("https://"), f"relative or insecure link {target!r} breaks on a package index"
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme)
    assert images and all(image.startswith(RAW) for image in images)
