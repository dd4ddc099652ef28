"""The document as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

from html import escape

from .document import Code, Document, Figure, Items, Section, Table, Text

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1b1b1b; background: #fff; margin: 0; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 8px; padding-top: 8px; border-top: 1px solid #e3e3e3; }
.subtitle { color: #555; margin: 0 0 12px; }
nav { font-size: 13px; margin-bottom: 8px; }
nav a { color: #2c5d8f; margin-right: 12px; text-decoration: none; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 12.5px; }
th, td { padding: 3px 6px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv td:first-child { font-weight: 600; white-space: nowrap; width: 1%; padding-right: 16px; }
table.kv thead { display: none; }
tr.selected td { background: #fff4d6; font-weight: 600; }
tr.failed td { color: #a33; }
tr.yours td { background: #e8f1fb; font-weight: 600; }
#leaderboard-table td:last-child { overflow-wrap: anywhere; min-width: 200px; font-size: 11.5px;
                             font-family: ui-monospace, Menlo, Consolas, monospace; }
figure { margin: 8px 0 16px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption, .muted { color: #555; font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px; padding: 10px; white-space: pre-wrap;
      font: 12px/1.45 ui-monospace, Menlo, Consolas, monospace; }
.code-label { font-size: 12px; font-weight: 600; color: #555; margin: 10px 0 2px; }
details summary { cursor: pointer; color: #2c5d8f; margin: 4px 0; }
@media print { .scroll { overflow: visible; } }
footer { margin-top: 36px; color: #666; font-size: 12px; border-top: 1px solid #e3e3e3; padding-top: 8px; }
"""


def render(document: Document) -> str:
    nav = " ".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in document.sections)
    body = "\n".join(_section(s) for s in document.sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(document.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{escape(document.title)}</h1>\n<p class=\"subtitle\">{escape(document.subtitle)}</p>\n"
            f"<nav>{nav}</nav>\n{body}\n<footer>{escape(document.footer)}</footer>\n</main>\n</body>\n</html>\n")


def _section(section: Section) -> str:
    blocks = "\n".join(_block(b) for b in section.blocks)
    return f'<section id="{section.id}">\n<h2>{escape(section.title)}</h2>\n{blocks}\n</section>'


def _block(block) -> str:
    if isinstance(block, Text):
        return f'<p{" class=muted" if block.muted else ""}>{escape(block.text)}</p>'
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Figure):
        return (f'<figure id="figure-{block.name}" class="plot">{block.svg}'
                f"<figcaption>{escape(block.caption)}</figcaption></figure>")
    if isinstance(block, Code):
        return (f'<div class="code-label">{escape(block.label)}</div>'
                f'<pre class="statement-{block.language}">{escape(block.text)}</pre>')
    if isinstance(block, Table):
        return _table(block)
    raise TypeError(f"No HTML for {type(block).__name__}")


def _table(table: Table) -> str:
    def cell(tag: str, i: int, value: str) -> str:
        kind = ' class="num"' if i in table.numeric else ""
        return f"<{tag}{kind}>{escape(value)}</{tag}>"

    key_value = not any(table.header)
    head = "<thead><tr>" + "".join(cell("th", i, h) for i, h in enumerate(table.header)) + "</tr></thead>"
    classes = table.row_classes or [""] * len(table.rows)
    rows = "".join(f'<tr{f" class={c}" if c else ""}>' + "".join(cell("td", i, v) for i, v in enumerate(row))
                   + "</tr>" for row, c in zip(table.rows, classes))
    attributes = (f' id="{table.id}"' if table.id else "") + (' class="kv"' if key_value else "")
    html = f'<div class="scroll"><table{attributes}>{head}<tbody>{rows}</tbody></table></div>'
    if table.collapsed:
        return f"<details><summary>{escape(table.caption)}</summary>{html}</details>"
    return (f"<p class=muted>{escape(table.caption)}</p>" if table.caption else "") + html
