from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def make_list_words(value: str) -> list[str]:
    return value.split()


@register.filter
def split_labels(value) -> list[str]:
    """",complaint,legal_threat," → ["complaint", "legal_threat"]"""
    return [v for v in (value or "").split(",") if v]
