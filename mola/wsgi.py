import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
# Read by settings: a web process keeps fewer consensus indexes than a worker (see there).
os.environ.setdefault("MOLA_PROCESS", "web")
application = get_wsgi_application()
