"""`make bench`: run the benchmarks and write BENCHMARKS.md."""
import argparse
import sys

from bench import assistant, escalations, telegram, widget


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["assistant", "escalations", "telegram", "widget"], nargs="*")
    args = parser.parse_args()
    selected = set(args.only or ["assistant", "escalations", "telegram", "widget"])
    if "assistant" in selected:
        print(assistant.run())
    if "escalations" in selected:
        print(escalations.run())
    if "telegram" in selected:
        print(telegram.run())
    if "widget" in selected:
        print(widget.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
