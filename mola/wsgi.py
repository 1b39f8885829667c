import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
# Read by settings: a web process keeps fewer consensus indexes than a worker (see there).
os.environ.setdefault("MOLA_PROCESS", "web")
application = get_wsgi_application()
# What the imports made (~200,000 objects: Django, the URLconf's views and what they
# import) lives as long as the process. Frozen out of the cyclic collector's sight, a full
# collection walks only what came after — the models held, requests' leftovers: ~2 ms of
# CPU instead of ~100 ms at M, which it spent holding the interpreter, in front of any
# request or a new version's warm-up (traced at M: the slowest quick write's notice, 0.18 s
# of a 0.32 s wait). The URLconf is loaded first (Django would on the first request).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
