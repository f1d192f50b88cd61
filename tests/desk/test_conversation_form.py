"""The conversation side form is written in Python for speed; it must stay the markup Django's templates give."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html
from django.utils import translation

from resonanz.desk.forms.inbox import ConversationForm, QuickSelect
from resonanz.inbox.actions import invite_agent

pytestmark = pytest.mark.django_db


def same(html: str):
    """The markup as a tree (attribute order and white space between tags do not count, as in a browser)."""
    return parse_html(html)


def django_rendering(form: ConversationForm) -> str:
    for field in form.fields.values():
        if isinstance(field.widget, QuickSelect):
            field.widget = forms.Select(choices=field.widget.choices)
    return forms.Form.as_div(form)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_side_form_is_the_markup_of_djangos_div_layout(teams, agent_user, language):
    invite_agent("otto@example.com", display_name='Otto "<b>" & Co', role="agent", password="pw-otto-12345")
    with translation.override(language):
        initial = {"status": "open", "priority": 3, "team": teams["Support"], "assignee": agent_user, "tags": "a, b"}
        ours = ConversationForm(initial=initial).as_div()
        assert same(ours) == same(django_rendering(ConversationForm(initial=initial)))
        assert "Otto &quot;&lt;b&gt;&quot; &amp; Co" in ours and "<b>" not in ours  # names are escaped
        bound = ConversationForm(data={"status": "nonsense", "priority": "3"})
        assert not bound.is_valid()
        assert same(bound.as_div()) == same(django_rendering(ConversationForm(data={"status": "nonsense",
                                                                                  "priority": "3"})))
