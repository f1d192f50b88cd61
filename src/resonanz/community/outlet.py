"""The community channel's outlet: an agent's reply in an escalated conversation becomes a staff answer."""

from __future__ import annotations

from resonanz.community import actions, support
from resonanz.connectors.drivers.base import DriverError
from resonanz.core.errors import ActionError
from resonanz.inbox.models import Message


def post_reply(message: Message) -> str:
    ids = list(Message.objects.filter(conversation_id=message.conversation_id, direction=Message.Direction.INBOUND)
               .order_by("created_at", "id").values_list("external_id", flat=True)[:50])
    question_id = support.question_id_of(ids)
    if question_id is None:
        raise DriverError("this conversation did not come from a community question")
    if message.author_user is None:
        raise DriverError("only an agent's reply can be posted in the community")
    try:
        answer = actions.post_staff_answer(question_id, message.author_user, message.text)
    except ActionError as exc:
        raise DriverError(exc.message) from exc
    return f"community-a-{answer.pk}"
