#!/usr/bin/env python
"""Django's command-line utility; `citydata` is the same with a shorter name."""

from citydata.cli import main

if __name__ == "__main__":
    main()
