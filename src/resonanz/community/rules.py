"""The rules of recognition in one place: points per helpful act, badges, levels and the rights they unlock.

Pure functions over counts, so the profile page, the actions and the tests read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

#: reason -> points; a reason not here earns nothing
POINTS = {
    "answer_accepted": 15,
    "answer_upvoted": 10,
    "question_upvoted": 5,
    "idea_planned": 20,
    "accepted_an_answer": 2,
}
#: votes in both directions between two members at or above this count are a ring: no more points between them
RING_VOTES = 3
#: a member below this reputation with fewer than NEW_MEMBER_POSTS visible posts is "new"
NEW_MEMBER_REPUTATION = 10
NEW_MEMBER_POSTS = 3


@dataclass(frozen=True)
class Level:
    code: str
    label: object
    reputation: int
    rights: tuple[str, ...]


LEVELS = (
    Level("member", _("Member"), 0, ()),
    Level("regular", _("Regular"), 50, ("edit_tags",)),
    Level("superuser", _("Superuser"), 200, ("edit_tags", "close_duplicates")),
    Level("mentor", _("Mentor"), 500, ("edit_tags", "close_duplicates", "moderate_new_posts")),
)


def level_for(reputation: int) -> Level:
    return [lv for lv in LEVELS if reputation >= lv.reputation][-1]


@dataclass(frozen=True)
class Badge:
    code: str
    label: object
    description: object


BADGES = {b.code: b for b in (
    Badge("first_question", _("Curious"), _("Asked a first question")),
    Badge("first_answer", _("Helper"), _("Wrote a first answer")),
    Badge("first_accepted", _("Problem solver"), _("Had an answer accepted")),
    Badge("ten_accepted", _("Expert"), _("Had 10 answers accepted")),
    Badge("first_idea", _("Inventor"), _("Submitted a first idea")),
    Badge("idea_planned", _("Visionary"), _("Proposed an idea that got planned")),
    # scoped: one per product (BadgeAward.scope), shown as "Helpful in <product>"
    Badge("product_helper", _("Helpful in a product"),
          _("Had 5 answers accepted on other members' questions about one product")),
)}
#: accepted answers on others' questions about one product that earn "helpful in" that product
PRODUCT_HELPER_ACCEPTED = 5


def earned_badges(stats: dict[str, int]) -> set[str]:
    """Badge codes a member's counts qualify for: questions, answers, accepted, ideas, planned_ideas."""
    earned = set()
    if stats.get("questions", 0) >= 1:
        earned.add("first_question")
    if stats.get("answers", 0) >= 1:
        earned.add("first_answer")
    if stats.get("accepted", 0) >= 1:
        earned.add("first_accepted")
    if stats.get("accepted", 0) >= 10:
        earned.add("ten_accepted")
    if stats.get("ideas", 0) >= 1:
        earned.add("first_idea")
    if stats.get("planned_ideas", 0) >= 1:
        earned.add("idea_planned")
    return earned


def product_badges(accepted_by_product: dict[str, int]) -> set[str]:
    """The products a member is "helpful in": accepted answers on others' questions about each."""
    return {product for product, n in accepted_by_product.items() if product and n >= PRODUCT_HELPER_ACCEPTED}
