"""Progress lines, the result table and the Markdown report."""

import os
import platform
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = ("Metric", "Work order", "Sale order", "Ratio WO/SO")
WIDE = 10  # values from here on get one decimal, smaller ones two


def say(message):
    print(f"==> {message}", flush=True)


class Results:
    """Rows of the final table (metric, work order, sale order, unit) and notes."""

    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, metric, wo, so, unit=""):
        self.rows.append((metric, wo, so, unit))

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

    def table(self):
        """The rows as text cells, header first; the ratio when both are numbers."""
        out = [HEADER]
        for metric, wo, so, unit in self.rows:
            ratio = "-"
            if isinstance(wo, int | float) and isinstance(so, int | float) and so:
                ratio = f"{wo / so:.2f}"
            out.append((metric, self.fmt(wo, unit), self.fmt(so, unit), ratio))
        return out

    def text(self):
        rows = self.table()
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
        rows = self.table()
        lines = ["| " + " | ".join(rows[0]) + " |", "|---|---:|---:|---:|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
        return "\n".join(lines)


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
