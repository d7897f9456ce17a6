"""A run's notebooks as code-free HTML for stakeholders (nbconvert, the offline template)."""
from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent.parent / "templates"


def to_html(notebook_path: Path) -> Path:
    """Code-free HTML for stakeholders: no inputs, no prompts, no stderr (progress bars, warnings)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        if "parameters" in cell.get("metadata", {}).get("tags", []) or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.outputs = []
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    html_path = notebook_path.with_suffix(".html")
    html_path.write_text(body)
    return html_path
