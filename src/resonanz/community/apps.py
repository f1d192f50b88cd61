from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    """Members, questions and answers, ideas, reputation: the domain of the public community pages."""

    name = "resonanz.community"
    verbose_name = _("Community")

    def ready(self) -> None:
        from resonanz.community import actions, outlet, tasks
        from resonanz.connectors.drivers import community as driver
        from resonanz.core import events, hooks

        hooks.register("contact_merged", actions.move_contact_rows)
        hooks.register("contact_erased", actions.erase_contact)
        hooks.register("contact_exported", actions.export_contact)
        driver.set_outlet(outlet.post_reply)
        events.subscribe("community.screen_post",
                         lambda event, kind, target_id: tasks.screen_post.delay(kind, target_id))
