"""Every static file a template names exists: a renamed script otherwise shows up only as a 404 in a browser."""

import re
from pathlib import Path

import resonanz

SRC = Path(resonanz.__file__).parent


def test_every_static_file_named_in_a_template_exists():
    named = set()
    for template in SRC.rglob("templates/**/*.html"):
        named |= set(re.findall(r"""\{%\s*static\s+['"]([^'"]+)['"]""", template.read_text()))
    shipped = {str(p.relative_to(d)) for d in SRC.rglob("static") if d.is_dir() for p in d.rglob("*") if p.is_file()}
    assert named, "no template names a static file: the pattern is wrong"
    assert sorted(named - shipped) == []
