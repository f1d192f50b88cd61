from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.crm.models import Contact, Identity


class ContactForm(forms.ModelForm):
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Contact
        fields = ["name", "preferred_language", "lifecycle_stage", "organization", "owner", "consent", "notes"]


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Identity.Kind.choices)
    handle = forms.CharField(label=_("Handle"), max_length=320)


class MergeForm(forms.Form):
    other = forms.IntegerField(label=_("Number of the contact to merge into this one"), min_value=1,
                               max_value=2**63 - 1)
