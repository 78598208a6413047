"""The settings the suite runs with: production's own (config/settings.py), given a test environment.

pytest-django imports this module (pyproject: DJANGO_SETTINGS_MODULE) before it loads any conftest, so a plain
`python -m pytest` needs nothing exported. DEBUG stays off, as in production; the two secrets are fixed, public
test values, set only where the environment gives none. They are written to os.environ so that the processes a
test starts (`manage.py qcluster`) run with the same keys and read the same ciphertext.
"""

import os
from pathlib import Path

TEST_ENVIRONMENT = {
    "SECRET_KEY": "switchyard-test-suite-only-secret-key-0b9d4f2a7c61e8h3k5m7p9r2t4v6x8z",
    "FIELD_ENCRYPTION_KEY": "0wNt4xUfbvhAt_PufJvwPpzC9bntEZ41mrhCAgfTdJQ=",
    # Uploaded import files: the checkout's own folder (like .test.sqlite3), shared with a cluster a test starts.
    "IMPORT_UPLOAD_DIR": str(Path(__file__).resolve().parent.parent / ".test-uploads"),
}
for _name, _value in TEST_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

from config.settings import *  # noqa: E402, F403
