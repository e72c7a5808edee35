"""``python -m sscontainer.cli`` is the ``sscontainer`` command."""

from .main import main

main()
