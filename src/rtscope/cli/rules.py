"""``rtscope rules``: list the analysis rules, print one's documentation, or all as Markdown."""

from __future__ import annotations

import click

from ..analyzers.docs import listing, markdown, rule_doc
from ..analyzers.registry import get_rule


@click.command("rules")
@click.argument("name", required=False)
@click.option(
    "--markdown", "as_markdown", is_flag=True, help="All rules as Markdown (docs/rules.md)."
)
def command(name: str | None, as_markdown: bool) -> None:
    """List the analysis rules, or print one rule's documentation.

    \b
    Examples:
      rtscope rules
      rtscope rules text-only-response
      rtscope rules --markdown > docs/rules.md
    """
    if as_markdown:
        click.echo(markdown(), nl=False)
        return
    if name is None:
        click.echo(listing())
        return
    try:
        rule = get_rule(name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="NAME") from None
    click.echo(f"{rule.name} (default severity: {rule.severity.label})\n")
    click.echo(rule_doc(rule))
