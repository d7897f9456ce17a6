"""Text from the data never comes alive in the report: item IDs and names, a file name and a column header
carrying HTML/JavaScript payloads go through every notebook and the index, and no page holds a live
``<script>`` or event handler from them."""
import re

import pytest

from shared import synthetic

from .conftest import run_cli

PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>")
# alive = a real tag: "<script>" itself, or an event handler inside a tag ("&lt;img ... onerror=" is inert text)
LIVE = re.compile(r"<script>alert|<[a-z]+\b[^<>]*\bon(?:error|load|mouseover)\s*=", re.I)


@pytest.mark.slow
def test_injection_payloads_are_escaped_in_every_page(tmp_path):
    gen = synthetic.generate(150, 60, 12, seed=3, noise=0.0)
    lines = gen.lines.copy()
    popular = lines["item_id"].value_counts().index[:3]
    renamed = dict(zip(popular, PAYLOADS))
    lines["item_id"] = lines["item_id"].map(lambda i: renamed.get(i, i))
    lines["item_name"] = lines["item_id"].map(lambda i: f"{i} <b onmouseover=alert(4)>name</b>")
    header = "<script>alert(5)</script>"
    frame = lines.rename(columns={"customer_id": header})
    csv = tmp_path / "<img src=x onerror=alert(6)>.csv"
    frame.to_csv(csv, index=False)
    mapping = (f"{{basket_id: basket_id, customer_id: '{header}', item_id: item_id, timestamp: timestamp, "
               "quantity: quantity, item_name: item_name}")
    out = tmp_path / "run"
    proc = run_cli("run", "--profile", "smoke", "-p", "source=file", "-p", f"path={csv}", "-p", f"columns={mapping}",
                   "-p", "min_item_count=1", "-p", "models=[popularity, personal_frequency, item_knn, repeat, rules]",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    pages = sorted(out.glob("*.html"))
    assert len(pages) >= 6  # five notebooks and the index
    for page in pages:
        text = page.read_text()
        found = LIVE.findall(text)
        assert not found, f"{page.name}: live payload {found[:3]}"
    # the payloads did reach the pages, escaped (the test would pass trivially if they were dropped)
    everything = "".join(p.read_text() for p in pages)
    assert "&lt;script&gt;alert(1)" in everything or "&lt;script&gt;alert\\(1\\)" in everything
