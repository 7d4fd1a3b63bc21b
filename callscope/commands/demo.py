"""``callscope demo``: the whole pipeline against a local OpenAI simulator, then the dashboard."""

from __future__ import annotations

import click

from callscope.demo.workload.plan import DEFAULT_CALLS, DEFAULT_TIME_SCALE, MIN_CALLS, MIN_TIME_SCALE

DEFAULT_DATA = "./callscope-demo-data"  # callscope.demo.run.DEFAULT_DEMO_DATA, without importing rich here
DEFAULT_PORT = 8501


@click.command(
    "demo",
    epilog="""\b
What runs: a support console's backend and its jobs ("acme-support"), instrumented
with callscope.instrument() and callscope.tags() as any app would be, calling a local
OpenAI-compatible simulator through the real openai SDK (sync and async clients).
Each part of the app plants one pattern a suggestion rule should find; the demo
knows the answer and shows, after the report, whether callscope found it
(docs/demo.md).

\b
Examples:
  callscope demo                       # half a minute: the calls, the report, then the dashboard
  callscope demo --no-dashboard        # stop after the report
  callscope demo --otlp                # spans over OTLP through a `callscope collect` process
  callscope demo --calls 2000 --time-scale 0.25 --port 8502""",
)
@click.option(
    "--calls",
    type=click.IntRange(MIN_CALLS),
    default=DEFAULT_CALLS,
    show_default=True,
    help="About how many API calls the app makes (a few more where a pattern needs them).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same requests and answers.")
@click.option(
    "--data",
    metavar="DIR",
    default=DEFAULT_DATA,
    show_default=True,
    help="The demo's data folder: cleared at every run; a folder with other files in it is refused.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(MIN_TIME_SCALE, 1.0),
    default=DEFAULT_TIME_SCALE,
    show_default=True,
    help="Wall-clock seconds per simulated second: 0.1 runs ten times faster than the API, 1 at its speed.",
)
@click.option("--otlp", is_flag=True, help="Send spans over OTLP to a `callscope collect` the demo starts.")
@click.option("--no-dashboard", is_flag=True, help="Stop after printing the report.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Dashboard port on 127.0.0.1 (0: any free one).",
)
@click.option("--no-progress", is_flag=True, help="No progress bars (for logs).")
@click.pass_context
def command(
    ctx: click.Context,
    *,
    calls: int,
    seed: int,
    data: str,
    time_scale: float,
    otlp: bool,
    no_dashboard: bool,
    port: int,
    no_progress: bool,
) -> None:
    """Run a realistic app against a local OpenAI simulator with callscope on, print the
    report, and serve the dashboard. No API key, no network."""
    from rich.console import Console

    from callscope.demo.run import DemoOptions, run_demo

    host = "127.0.0.1"
    if not no_dashboard:
        from callscope.dashboard.server import check_port

        port = check_port(host, port)  # before the run: a taken port is an error now, not in a minute
    options = DemoOptions(
        calls=calls, seed=seed, data=data, time_scale=time_scale, otlp=otlp, progress=not no_progress
    )
    try:
        run = run_demo(options, Console(highlight=False, soft_wrap=True))
    except KeyboardInterrupt:
        click.echo(f"\ncallscope demo: interrupted; the calls made so far are in {data}", err=True)
        ctx.exit(130)
    click.echo(
        "\nExplore the demo's calls yourself:\n"
        f"  callscope report --data {data} --format markdown\n"
        f"  callscope sql --data {data} \"SELECT tags['feature'] AS feature, count(*) AS calls, "
        'sum(cost_usd) AS cost_usd FROM calls GROUP BY ALL ORDER BY cost_usd DESC"\n'
        f"  callscope dashboard --data {data}"
    )
    if no_dashboard:
        return
    from callscope.commands.dashboard import command as dashboard

    click.echo("\nServing the dashboard on the demo's data:")
    ctx.invoke(dashboard, data=run.data, port=port, host=host)
