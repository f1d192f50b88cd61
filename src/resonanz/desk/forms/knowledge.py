"""Forms of the knowledge editor. They only validate; the views hand the data to the actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.knowledge.models import Article, Category


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=250)
    body = forms.CharField(label=_("Text (Markdown)"), widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}))
    language = forms.ChoiceField(label=_("Language"), choices=Article.Language.choices)
    translation_of = forms.ModelChoiceField(
        label=_("Translation of"), queryset=Article.objects.none(), required=False,
        help_text=_("The same article in the other language."))
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    status = forms.ChoiceField(label=_("Status"), choices=Article.Status.choices)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Article.Visibility.choices)
    example_questions = forms.CharField(
        label=_("Example questions"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: how customers ask for this. They help search and automatic answers."))
    note = forms.CharField(label=_("What did you change?"), required=False, max_length=300)

    def __init__(self, *args, article: Article | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        others = Article.objects.exclude(status=Article.Status.ARCHIVED).order_by("language", "title")
        if article is not None:
            others = others.exclude(pk=article.pk)
        self.fields["translation_of"].queryset = others
        self.fields["translation_of"].label_from_instance = lambda a: f"[{a.language}] {a.title}"

    def clean(self):
        data = super().clean()
        other = data.get("translation_of")
        if other is not None and other.language == data.get("language"):
            self.add_error("translation_of", _("A translation must be in the other language."))
        return data

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]

    @staticmethod
    def initial_for(article: Article) -> dict:
        partner = article.translations().order_by("pk").first()
        return {
            "title": article.title, "body": article.body, "language": article.language,
            "translation_of": partner, "category": article.category, "status": article.status,
            "visibility": article.visibility, "example_questions": article.example_questions,
            "tags": ", ".join(article.tags.values_list("name", flat=True)),
        }


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    name_de = forms.CharField(label=_("German name"), max_length=120, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    position = forms.IntegerField(label=_("Position"), min_value=0, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("A Markdown file (.md), a .zip of Markdown files, "
                                                        "or a JSON export."))
