"""Every CLI command has help text with an example and is documented in the README."""

from __future__ import annotations

import click
import pytest

from kb.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize("name, command", list(commands(cli)))
def test_command_has_help_with_an_example_and_is_in_the_readme(name, command):
    assert command.help and command.help.strip(), f"kb {name} has no help text"
    assert "Example:" in command.help or isinstance(command, click.Group), f"kb {name} help has no example"
    assert f"`kb {name}" in README, f"kb {name} is missing from the README"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"kb {name} {param.opts[0]} has no help text"


def test_readme_names_exactly_two_commands_to_start():
    assert "$ make run" in README and "$ make test" in README


def test_ci_calls_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
