"""A notebook as a page: its Markdown cells as they are, its code cells as Python code, not run and without outputs.

Running the notebook belongs to the test suite (``tests/test_api.py`` runs it in a Jupyter kernel); the site shows
what to type, so building it needs no kernel, no data and no time.
"""

from pathlib import Path

import nbformat

from .parameters import Page


def notebook_page(path: Path, link: str) -> Page:
    """The page of notebook ``path``; ``link``: where the notebook file is, said under the title."""
    notebook = nbformat.read(path, as_version=4)
    blocks = []
    for index, cell in enumerate(notebook.cells):
        source = cell.source.strip()
        if cell.cell_type == "markdown":
            blocks.append(source)
            if index == 0:
                blocks.append(f"*The notebook {link}, shown as code: its outputs are not stored, and the site does "
                              "not run it (the test suite does). Run it with `jupyter lab` from `examples/`.*")
        elif cell.cell_type == "code" and source:
            blocks.append(f"```python\n{source}\n```")
    problems = [] if notebook.cells and notebook.cells[0].cell_type == "markdown" else [
        f"{path}: the first cell should be Markdown with the notebook's title"]
    return Page("\n\n".join(blocks) + "\n", problems)
