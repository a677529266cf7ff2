"""Rebuild BENCHMARKS.md from the tables the benchmark scripts saved in benchmarks/results/.

python benchmarks/report.py
"""

from common import RESULTS_DIR, ROOT

INTRO = """# Benchmarks

Every table below is written by a script in `benchmarks/` (its command, machine and date are in
the table's header) and collected here by `python benchmarks/report.py`. Re-run a script to
refresh its table. Timings are medians of repeated runs.
"""


def main() -> None:
    tables = sorted(RESULTS_DIR.glob("*.md"))
    body = "\n".join("#" + p.read_text() for p in tables)
    out = ROOT / "BENCHMARKS.md"
    out.write_text(INTRO + "\n" + body)
    print(f"wrote {out} from {len(tables)} tables")


if __name__ == "__main__":
    main()
