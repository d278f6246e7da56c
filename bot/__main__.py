"""Command line: `python -m bot <command>`.

build-spacy            build the project's spaCy pipeline (set-up step)
train [--force]        train if the data or config changed
preflight              check ports before `make run`
validate               strict data validation
test-stories           Rasa's test stories (tests/conversations) on the current model
serve-rasa [--model PATH] [--port N]
                       start Rasa on 127.0.0.1 (used by the Procfile)
serve-actions          start the action server on 127.0.0.1 (used by the Procfile)
edge                   start the edge web app (used by the Procfile)
content check|approve|report
                       the content approval register
purge [--older-than DAYS]
                       delete old conversations and handled handoff requests
report [--weeks N]     the inbox's weekly numbers as CSV (numbers only)
learn export|gaps      labelled inbox questions as NLU examples / content gaps (build/learn/)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build-spacy", help="build the spaCy pipeline")
    train = commands.add_parser("train", help="train if inputs changed")
    train.add_argument("--force", action="store_true")
    commands.add_parser("preflight", help="check that the ports are free")
    commands.add_parser("validate", help="strict data validation (every warning fails)")
    commands.add_parser("test-stories", help="run the test stories on the current model")
    serve_rasa = commands.add_parser("serve-rasa", help="start Rasa on loopback")
    serve_rasa.add_argument(
        "--model", type=Path, default=None, help="default: models/current.tar.gz"
    )
    serve_rasa.add_argument("--port", type=int, default=None, help="default: RASA_PORT or 5005")
    commands.add_parser("serve-actions", help="start the action server on loopback")
    edge = commands.add_parser("edge", help="start the edge web app")
    edge.add_argument("--host", default=None)
    edge.add_argument("--port", type=int, default=None)
    content = commands.add_parser("content", help="the content approval register")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    content_commands.add_parser("check", help="fail if a response is unregistered or changed")
    approve = content_commands.add_parser("approve", help="record an approval")
    approve.add_argument("name", help="response name, e.g. utter_safety_plan/legal_status")
    approve.add_argument("--by", required=True, help="the approver's role, e.g. adviser")
    approve.add_argument(
        "--variation",
        type=int,
        default=None,
        help="only this variation (0-based); default: all of them",
    )
    report = content_commands.add_parser("report", help="write a review sheet")
    report.add_argument("--out", default="build/content-review.md")
    report.add_argument("--format", choices=["md", "csv"], default=None)
    content_commands.add_parser("sync", help="add unregistered responses as source-derived")
    purge = commands.add_parser("purge", help="delete old conversations and handled requests")
    purge.add_argument(
        "--older-than",
        type=int,
        default=None,
        metavar="DAYS",
        help="default: privacy.retention_days in bot/settings.yml",
    )
    learn = commands.add_parser("learn", help="what advisers labelled in the inbox")
    learn_commands = learn.add_subparsers(dest="learn_command", required=True)
    for verb, what in (
        ("export", "NLU examples for review (build/learn/inbox-examples.yml)"),
        ("gaps", "new-topic titles with counts (build/learn/content-gaps.md)"),
    ):
        learn_commands.add_parser(verb, help=what).add_argument("--out", default=None)
    report_numbers = commands.add_parser("report", help="weekly numbers as CSV")
    report_numbers.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args(argv)

    from bot.ops.runner import StartupProblem

    try:
        return _dispatch(args)
    except StartupProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "build-spacy":
        from bot.ops import spacy_pipeline

        path = spacy_pipeline.build()
        print(f"spaCy pipeline ready ({path.name})")
        return 0
    if args.command == "train":
        from bot.ops import training

        training.ensure_model(force=args.force)
        return 0
    if args.command == "preflight":
        from bot.ops import runner

        runner.check_ports()
        runner.rasa_command(dict(__import__("os").environ), model="-")
        return 0
    if args.command == "validate":
        from bot.ops import validate

        return validate.main()
    if args.command == "test-stories":
        from bot.ops import runner

        runner.exec_test_stories()
        return 0
    if args.command == "serve-rasa":
        from bot.ops import runner

        runner.exec_rasa(model=args.model, port=args.port)
        return 0
    if args.command == "serve-actions":
        from bot.ops import runner

        runner.exec_actions()
        return 0
    if args.command == "edge":
        from bot.edge.app import serve

        serve(host=args.host, port=args.port)
        return 0
    if args.command == "purge":
        from bot.storage import retention

        return retention.main(args)
    if args.command == "report":
        from bot import report

        return report.run(args)
    if args.command == "learn":
        from bot import learn

        return learn.run(args)
    if args.command == "content":
        from bot.content import cli

        return cli.run(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
