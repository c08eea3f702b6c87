"""`make bench`: run the benchmarks and write BENCHMARKS.md."""
import argparse
import sys

from bench import assistant, cpu, escalations, production, queue, telegram, widget


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["assistant", "cpu", "escalations", "telegram", "queue", "widget", "production"], nargs="*")
    args = parser.parse_args()
    selected = set(args.only or ["assistant", "cpu", "escalations", "telegram", "queue", "widget", "production"])
    if "assistant" in selected:
        print(assistant.run())
    if "cpu" in selected:
        print(cpu.run())
    if "escalations" in selected:
        print(escalations.run())
    if "telegram" in selected:
        print(telegram.run())
    if "queue" in selected:
        print(queue.run())
    if "widget" in selected:
        print(widget.run())
    if "production" in selected:
        print(production.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
