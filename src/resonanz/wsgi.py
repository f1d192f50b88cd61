import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
os.umask(0o077)  # files this server creates (database, attachments) are readable only by its user
django_application = get_wsgi_application()

from resonanz.core.bodylimit import BodyLimitWSGI  # noqa: E402  (needs the settings above)
from resonanz.core.heap import freeze_after_startup  # noqa: E402

freeze_after_startup()  # the loaded code is never garbage, so the collector stops walking it (core/heap.py)

# Reads chunked bodies up to the limit: Django itself would see them as empty.
application = BodyLimitWSGI(django_application)
