"""Prints the OpenAPI document (for the dashboard's generated client): python -m frontdesk.openapi_dump."""

from __future__ import annotations

import json
import tempfile

from frontdesk.app import create_app
from frontdesk.settings import Settings


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(dev_mode=True, data_dir=data_dir), with_worker=False)
        print(json.dumps(app.openapi(), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
