from django import forms

from resonanz.understanding.models import CatalogEntry


class CatalogEntryForm(forms.ModelForm):
    class Meta:
        model = CatalogEntry
        fields = ["name", "kind", "aliases"]
        widgets = {"aliases": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self):
        """Uniqueness is checked by the action, with a message that names the entry."""
