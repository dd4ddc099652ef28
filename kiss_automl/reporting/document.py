"""The report as data: sections of paragraphs, tables, figures and code, before any format.

The HTML and Markdown writers render the same document, so the two formats say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    text: str
    muted: bool = False


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    row_classes: list[str] | None = None  # per row: "selected", "failed", "yours"... (HTML only)
    id: str | None = None
    caption: str = ""
    collapsed: bool = False  # long tables folded behind their caption


@dataclass(frozen=True)
class Figure:
    name: str  # file stem for Markdown, id for HTML
    svg: str
    caption: str


@dataclass(frozen=True)
class Code:
    text: str
    label: str
    language: str = "text"


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    footer: str = ""
