"""The `wbqa` command: thin click subcommands grouped by job.

`corpus` (ingest, index, serve), `answering` (search, ask, brief, verify), `measuring`
(eval, bench) and `training` (train-selector, train-reader). A command parses its options,
calls one public function of the package that owns the work, and prints. Every `WbqaError`
is turned into a one-line message here, once for all commands.
"""

from __future__ import annotations

import click

from wbqa.app.cli import answering, corpus, measuring, training
from wbqa.ingest.errors import WbqaError


class WbqaGroup(click.Group):
    """A click group that shows a user's error as one line (exit status 1), never a
    traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WbqaError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=WbqaGroup)
@click.version_option(package_name="wbqa")
def cli() -> None:
    """wbqa: answers quoted verbatim from your sources, with citations."""


for group in (corpus, answering, measuring, training):
    for command in group.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli()
