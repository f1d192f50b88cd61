import os

import django
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
os.umask(0o077)  # files this server creates (database, attachments) are readable only by its user
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

if settings.RESONANZ_REUSE_REQUEST_THREADS:
    # Request threads (and with them database connections) outlive a request: core/requestthreads.py.
    from resonanz.core.requestthreads import ReusedThreadsASGIHandler  # noqa: E402

    django_application = ReusedThreadsASGIHandler()
else:
    django_application = get_asgi_application()

from resonanz.core.bodylimit import BodyLimitASGI  # noqa: E402  (needs the settings above)
from resonanz.core.heap import freeze_after_startup  # noqa: E402

freeze_after_startup()  # the loaded code is never garbage, so the collector stops walking it (core/heap.py)

if settings.RESONANZ_LEAN_ROUTES:
    # POST /api/channels/<id>/inbound/ and /hooks/<slug>/ without Django's ASGI handler, the browser's middleware
    # and DRF when they succeed; anything else falls through to Django (core/leanroute.py, api/inbound.py).
    from resonanz.api.inbound import route as api_inbound  # noqa: E402
    from resonanz.core.leanroute import LeanRoutes, hooks  # noqa: E402

    served = LeanRoutes(django_application, [api_inbound, hooks])
else:
    served = django_application

# Counts chunked bodies as they arrive: Django itself would read them completely before any middleware.
application = BodyLimitASGI(served)
