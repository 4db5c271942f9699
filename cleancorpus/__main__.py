"""``python -m cleancorpus``: the same as the console script."""

from cleancorpus.cli import main

main()
