"""Progress lines, the result table and the Markdown report."""

import os
import platform
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = ("Metric", "Work order", "Sale order", "Ratio")
# The ratio reads the same way on every row: at or below its target (1.00
# unless said otherwise), the work order is at or ahead of sale. On the rows
# where more is better (requests per second), it is sale's figure over the
# work order's.
TARGET = 1.0
SLOWEST_TARGET = 1.5  # the single slowest request: a noisy figure
FLOOR_HEADER = ("Search", "ORM", "Bare SQL", "Ratio ORM/SQL")
FLOOR_TARGET = 3.0  # the ORM's search within 3x of the bare SQL
WIDE = 10  # values from here on get one decimal, smaller ones two
SAME = "same"  # the check of a row whose two figures must be equal
SHOWN = "shown"  # a row shown for information: no ratio, no target


def say(message):
    print(f"==> {message}", flush=True)


class Results:
    """Rows of the final table (metric, work order, sale order, unit) and notes."""

    def __init__(self):
        self.rows = []
        self.floors = []
        self.notes = []

    def add(self, metric, wo, so, unit="", higher_is_better=False, target=TARGET):
        self.rows.append((metric, wo, so, unit, higher_is_better, target, None))

    def add_most(self, metric, wo, so, most):
        """A row held to a count, not to sale: the work order's at most ``most``."""
        self.rows.append((metric, wo, so, "", False, None, most))

    def add_same(self, metric, wo, so):
        """A row where both must find the same figure (a correctness check)."""
        self.rows.append((metric, wo, so, "", False, None, SAME))

    def add_shown(self, metric, wo, so):
        """A row for information (what each side found), without a ratio."""
        self.rows.append((metric, wo, so, "", False, None, SHOWN))

    def add_floor(self, search, orm_ms, sql_ms):
        """A search by the ORM beside the same search in bare SQL (ms)."""
        self.floors.append((search, orm_ms, sql_ms, "ms", False, FLOOR_TARGET, None))

    @staticmethod
    def fmt(value, unit):
        if value is None:
            return "n/a"
        if isinstance(value, str):
            return value
        if isinstance(value, float):
            text = f"{value:.1f}" if abs(value) >= WIDE else f"{value:.2f}"
        else:
            text = str(value)
        return f"{text} {unit}".strip()

    @staticmethod
    def ratio(wo, so, higher_is_better):
        """The row's ratio (see TARGET), or None when a figure is missing."""
        if not (isinstance(wo, int | float) and isinstance(so, int | float)):
            return None
        if higher_is_better:
            return so / wo if wo else None
        return wo / so if so else (0.0 if not wo else float("inf"))

    def table(self, rows=None, header=HEADER):
        """The rows as text cells, header first; the ratio when both are
        numbers, with its target when that is not 1.00 and a mark above it;
        for the rows held to a count or to sale's figure, that check."""
        out = [header]
        for row in self.rows if rows is None else rows:
            metric, wo, so, unit, higher, target, check = row
            if check == SAME:
                cell = "same" if wo == so else "differ"
            elif check == SHOWN:
                cell = "-"
            elif check is not None:
                cell = f"<= {check}"
            else:
                ratio = self.ratio(wo, so, higher)
                cell = "-" if ratio is None else f"{ratio:.2f}"
                if ratio is not None and target != TARGET:
                    cell += f" (<= {target:g})"
            if self.missed(row):
                cell += " !"
            out.append((metric, self.fmt(wo, unit), self.fmt(so, unit), cell))
        return out

    def missed(self, row):
        """Whether the row misses its target, its count or sale's figure."""
        _metric, wo, so, _unit, higher, target, check = row
        if check == SAME:
            return wo != so
        if check == SHOWN:
            return False
        if check is not None:
            return not isinstance(wo, int | float) or wo > check
        ratio = self.ratio(wo, so, higher)
        return ratio is not None and ratio > target

    def above_target(self):
        """The metrics that miss their target."""
        return [row[0] for row in self.rows + self.floors if self.missed(row)]

    def verdict(self):
        above = self.above_target()
        if not above:
            return "Every row is at or below its target."
        return f"{len(above)} row(s) above target (marked !): " + "; ".join(above)

    def tables(self):
        """The table beside sale, then the ORM beside bare SQL, if measured."""
        out = [("", self.table())]
        if self.floors:
            title = "ORM search beside the same search in bare SQL:"
            out.append((title, self.table(self.floors, FLOOR_HEADER)))
        return out

    def text(self):
        tables = "\n\n".join(
            (f"{title}\n" if title else "") + self.text_table(rows)
            for title, rows in self.tables()
        )
        return f"{tables}\n\n{self.verdict()}"

    @staticmethod
    def text_table(rows):
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
        lines = []
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [
                cell.rjust(width)
                for cell, width in zip(row[1:], widths[1:], strict=True)
            ]
            lines.append("  ".join(cells))
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def markdown(self):
        parts = []
        for title, rows in self.tables():
            lines = [title, ""] if title else []
            lines += ["| " + " | ".join(rows[0]) + " |", "|---|---:|---:|---:|"]
            lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
            parts.append("\n".join(lines))
        parts.append(self.verdict())
        return "\n\n".join(parts)


def write_report(args, results, sizes, started):
    """Write the Markdown report into the log folder; return its path."""
    commit = subprocess.run(
        ["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    header = [
        f"# work_order benchmark, scale {args.scale:g}",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; addon commit {commit or '?'}; "
        f"database {args.db}",
        f"- dataset: {sizes['res_partner']} partners, {sizes['work_order']} work "
        f"orders / {sizes['work_order_line']} lines, {sizes['sale_order']} sale "
        f"orders / {sizes['sale_order_line']} lines",
        f"- machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{args.repeat} repetitions per median; HTTP: {args.workers} workers, "
        f"{args.clients} clients",
        "",
        "",
    ]
    text = "\n".join(header) + results.markdown() + "\n"
    if results.notes:
        text += "\nNotes:\n\n" + "\n".join(f"- {n}" for n in results.notes) + "\n"
    name = f"benchmark-{started:%Y%m%d-%H%M%S}-scale{args.scale:g}.md"
    path = os.path.join(args.log_dir, name)
    with open(path, "w", encoding="utf-8") as report:
        report.write(text)
    return path
