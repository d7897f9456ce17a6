"""Text from the data never comes alive in the report: item IDs and names, a file name and a column header
carrying HTML/JavaScript payloads (tests/conftest.py: ``PAYLOADS``, the shared ``shop_file_run``) go through
every notebook and the index, and no page holds a live ``<script>`` or event handler from them."""
import re

import pytest

# alive = a real tag: "<script>" itself, or an event handler inside a tag ("&lt;img ... onerror=" is inert text)
LIVE = re.compile(r"<script>alert|<[a-z]+\b[^<>]*\bon(?:error|load|mouseover)\s*=", re.I)


@pytest.mark.slow
def test_injection_payloads_are_escaped_in_every_page(shop_file_run):
    out = shop_file_run.out
    assert shop_file_run.proc.returncode == 0, shop_file_run.proc.stderr[-3000:]
    pages = sorted(out.glob("*.html"))
    assert len(pages) >= 6  # five notebooks and the index
    for page in pages:
        text = page.read_text()
        found = LIVE.findall(text)
        assert not found, f"{page.name}: live payload {found[:3]}"
    # the payloads did reach the pages, escaped (the test would pass trivially if they were dropped)
    everything = "".join(p.read_text() for p in pages)
    assert "&lt;script&gt;alert(1)" in everything or "&lt;script&gt;alert\\(1\\)" in everything
