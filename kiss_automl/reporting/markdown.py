"""The document as Markdown: tables as Markdown tables, plots as SVG files beside the page."""

from __future__ import annotations

from .document import Code, Document, Figure, Items, Section, Table, Text


def render(document: Document, figures_dir: str) -> tuple[str, dict[str, str]]:
    """The page's text, and the figure files it links to (name → SVG) under `figures_dir`."""
    files: dict[str, str] = {}
    parts = [f"# {document.title}", "", f"_{_inline(document.subtitle)}_", ""]
    parts.append(" · ".join(f"[{s.title}](#{s.id})" for s in document.sections))
    for section in document.sections:
        parts += ["", *_section(section, figures_dir, files)]
    parts += ["", "---", "", f"_{_inline(document.footer)}_", ""]
    return "\n".join(parts), files


def _section(section: Section, figures_dir: str, files: dict[str, str]) -> list[str]:
    lines = [f'<a id="{section.id}"></a>', "", f"## {section.title}", ""]
    for block in section.blocks:
        lines += _block(block, figures_dir, files) + [""]
    return lines


def _block(block, figures_dir: str, files: dict[str, str]) -> list[str]:
    if isinstance(block, Text):
        return [f"_{_inline(block.text)}_" if block.muted else _inline(block.text)]
    if isinstance(block, Items):
        return [f"- {_inline(item)}" for item in block.items]
    if isinstance(block, Figure):
        name = f"{block.name}.svg"
        files[name] = block.svg
        return [f"![{block.caption}]({figures_dir}/{name})", "", f"_{_inline(block.caption)}_"]
    if isinstance(block, Code):
        return [f"**{block.label}**", "", f"```{block.language}", block.text, "```"]
    if isinstance(block, Table):
        return _table(block)
    raise TypeError(f"No Markdown for {type(block).__name__}")


def _table(table: Table) -> list[str]:
    header = [h or " " for h in table.header]
    rule = ["---:" if i in table.numeric else "---" for i in range(len(header))]
    lines = [] if not table.caption else [f"_{_inline(table.caption)}_", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
    return lines


def _cell(value: str) -> str:
    return _inline(value).replace("|", "\\|").replace("\n", " ") or " "


def _inline(text: str) -> str:
    """Text that Markdown shows as written: emphasis and HTML characters escaped."""
    for ch in ("\\", "*", "_", "<", ">", "[", "]"):
        text = text.replace(ch, "\\" + ch)
    return text
